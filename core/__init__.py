"""Shared configuration and process management for the intake assistant."""
