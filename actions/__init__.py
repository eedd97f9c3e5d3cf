"""Rasa custom actions for Aqparat (served by rasa-sdk on the Python 3.11 app environment)."""
