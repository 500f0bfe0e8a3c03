"""The Telegram side of the intake assistant: updates in, rendered replies out."""
