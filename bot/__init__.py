"""Aqparat's Telegram front end: python-telegram-bot in front of Rasa's REST channel.

The bot keeps no conversation state of its own: language, forms and history live in Rasa's
tracker. It only translates between Telegram and Rasa (text, buttons, commands), protects Rasa
from floods, and speaks for itself when Rasa cannot (down, slow, or a message it cannot read).
"""
