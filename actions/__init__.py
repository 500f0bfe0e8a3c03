"""Rasa custom actions for the intake dialogue (served by rasa-sdk)."""
