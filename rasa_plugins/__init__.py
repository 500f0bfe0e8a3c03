"""Code that runs inside the Rasa server (Python 3.10, Rasa's own environment): keep it to the
standard library, Rasa's own dependencies and storage/fieldcipher.py."""
