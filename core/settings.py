"""The one place that reads configuration from the environment."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The most custom actions one turn runs (validation, the next question, the summary ...).
ACTIONS_PER_TURN = 5


class ConfigurationError(RuntimeError):
    """An operator error: the message is one line that says what to do."""


class Settings(BaseSettings):
    """Every setting has a safe local default, so the project runs with no configuration."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    app_env: Literal["local", "production"] = Field("local", alias="APP_ENV")
    data_dir: Path = Field(PROJECT_ROOT / "data", alias="DATA_DIR")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # "json": one JSON object per line for log collectors (compose.yaml); "text" for people.
    log_format: Literal["text", "json"] = Field("text", alias="LOG_FORMAT")

    # Telegram
    telegram_bot_token: str | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_base_url: str = Field("https://api.telegram.org/bot", alias="TELEGRAM_BASE_URL")
    telegram_base_file_url: str = Field("https://api.telegram.org/file/bot", alias="TELEGRAM_BASE_FILE_URL")
    telegram_mode: Literal["polling", "webhook"] = Field("polling", alias="TELEGRAM_MODE")
    webhook_url: str | None = Field(None, alias="WEBHOOK_URL")
    webhook_secret: str | None = Field(None, alias="WEBHOOK_SECRET")
    # Updates of different chats handled at the same time (each chat's one after the other).
    max_concurrent_updates: int = Field(256, alias="MAX_CONCURRENT_UPDATES", ge=1)
    # Outgoing requests to Telegram (bot/ratelimit.py): at most this many per second in all, and
    # per private chat a burst of TELEGRAM_CHAT_BURST, refilled at TELEGRAM_CHAT_RATE per second.
    telegram_overall_rate: float = Field(30.0, alias="TELEGRAM_OVERALL_RATE", gt=0)
    telegram_chat_rate: float = Field(1.0, alias="TELEGRAM_CHAT_RATE", gt=0)
    telegram_chat_burst: int = Field(4, alias="TELEGRAM_CHAT_BURST", ge=1)

    # Rasa and the action server. Several comma-separated URLs: Rasa replicas that share the tracker
    # store and a Redis lock store; the bot spreads turns over them (bot/rasa_client.py).
    rasa_url: str = Field("http://127.0.0.1:5005", alias="RASA_URL")
    rasa_timeout_s: float = Field(30.0, alias="RASA_TIMEOUT_S")
    # How long Rasa waits for one custom action, and how long it holds a conversation's lock: the
    # lock must outlive the longest turn (several actions), or a second message of the same person
    # could be processed in the middle of the first (rasa_plugins/tracker_store.py sets both).
    action_timeout_s: float = Field(20.0, alias="ACTION_TIMEOUT_S", gt=0)
    rasa_lock_lifetime_s: int = Field(120, alias="RASA_LOCK_LIFETIME_S", gt=0)
    # While Rasa or the action server is down, messages wait in the database; tried this often.
    pending_retry_interval_s: float = Field(5.0, alias="PENDING_RETRY_INTERVAL_S", gt=0)
    action_server_host: str = Field("127.0.0.1", alias="ACTION_SERVER_HOST")
    action_server_port: int = Field(5055, alias="ACTION_SERVER_PORT")
    action_endpoint_url: str = Field("http://127.0.0.1:5055/webhook", alias="ACTION_ENDPOINT_URL")
    tracker_store_url: str | None = Field(None, alias="TRACKER_STORE_URL")
    lock_store_url: str | None = Field(None, alias="LOCK_STORE_URL")
    # The bot process's web server: health, Telegram webhook, coach pages. In a container set
    # WEB_HOST=0.0.0.0 and put a TLS-terminating proxy in front.
    web_host: str = Field("127.0.0.1", alias="WEB_HOST")
    web_port: int = Field(8080, alias="WEB_PORT")
    public_base_url: str = Field("http://127.0.0.1:8080", alias="PUBLIC_BASE_URL")

    # Storage and privacy
    database_url: str | None = Field(None, alias="DATABASE_URL")
    id_hash_key: str | None = Field(None, alias="ID_HASH_KEY")
    # Comma-separated URL-safe base64 32-byte keys; the first encrypts, all decrypt (key rotation).
    encryption_keys_csv: str | None = Field(None, alias="ENCRYPTION_KEYS")
    consent_version: str = Field("2026-11-v2", alias="CONSENT_VERSION")
    # One reminder this many hours after an unfinished intake was last touched; 0 switches it off.
    reminder_after_hours: float = Field(24.0, alias="REMINDER_AFTER_HOURS")
    reminder_check_interval_s: float = Field(600.0, alias="REMINDER_CHECK_INTERVAL_S")
    # Retention: closed or withdrawn profiles are erased this many days after their last change,
    # intakes never submitted this many days after they were last touched (storage/retention.py).
    retention_closed_days: int = Field(180, alias="RETENTION_CLOSED_DAYS", ge=1)
    retention_draft_days: int = Field(30, alias="RETENTION_DRAFT_DAYS", ge=1)
    retention_check_interval_s: float = Field(3600.0, alias="RETENTION_CHECK_INTERVAL_S")
    counselling_contact: str = Field(
        "Rückkehrberatung / return counselling office", alias="COUNSELLING_CONTACT"
    )

    # Coach review pages (bot/coach)
    # Telegram chat that gets a short notice (a link, no personal data) for each submitted profile.
    coach_chat_id: str | None = Field(None, alias="COACH_CHAT_ID")
    programme_target: int = Field(150, alias="PROGRAMME_TARGET", ge=1)
    # "module:factory" of a TranslationBackend (see bot/coach/translation.py); unset = no translation.
    translation_backend: str | None = Field(None, alias="TRANSLATION_BACKEND")
    coach_timezone: str = Field("Europe/Berlin", alias="COACH_TIMEZONE")
    coach_session_hours: float = Field(12.0, alias="COACH_SESSION_HOURS", gt=0)
    coach_outbox_interval_s: float = Field(5.0, alias="COACH_OUTBOX_INTERVAL_S", gt=0)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'intake.db'}"

    @property
    def effective_tracker_store_url(self) -> str:
        return self.tracker_store_url or f"sqlite:///{self.data_dir / 'rasa-tracker.db'}"

    @property
    def rasa_urls(self) -> list[str]:
        """RASA_URL split into its replicas' base URLs."""
        return [url.strip().rstrip("/") for url in self.rasa_url.split(",") if url.strip()]

    @property
    def action_health_url(self) -> str:
        """The action server's health endpoint, next to the webhook Rasa calls."""
        base = self.action_endpoint_url.rsplit("/webhook", 1)[0]
        return base.rstrip("/") + "/health"

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over TLS when the public address is https."""
        return self.public_base_url.lower().startswith("https://")

    @property
    def voice_dir(self) -> Path:
        """Voice notes: DATA_DIR/voice/<profile_id>/<voice_note_id>.ogg."""
        return self.data_dir / "voice"

    @property
    def model_dir(self) -> Path:
        return PROJECT_ROOT / "models"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def _local_secret(self, name: str, variable: str, make: Callable[[], str]) -> str:
        """A secret from the data folder in local mode (made once); production must configure it."""
        if self.app_env == "production":
            raise ConfigurationError(
                f"{variable} is not set: production needs it (see README, Configuration)."
            )
        path = self.ensure_data_dir() / name
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(make())
        return path.read_text().strip()

    def encryption_keys(self) -> list[str]:
        if self.encryption_keys_csv:
            return [k.strip() for k in self.encryption_keys_csv.split(",") if k.strip()]
        from storage.fieldcipher import new_key

        return [self._local_secret("encryption.key", "ENCRYPTION_KEYS", new_key)]

    @model_validator(mode="after")
    def _lock_outlives_a_turn(self) -> Settings:
        if self.rasa_lock_lifetime_s < ACTIONS_PER_TURN * self.action_timeout_s:
            raise ValueError(
                f"RASA_LOCK_LIFETIME_S must be at least {ACTIONS_PER_TURN} x ACTION_TIMEOUT_S"
                " (the longest turn), or two messages of one person can be processed at once"
            )
        return self

    @model_validator(mode="after")
    def _rasa_urls_are_urls(self) -> Settings:
        urls = self.rasa_urls
        if not urls or not all(url.startswith(("http://", "https://")) for url in urls):
            raise ValueError("RASA_URL must be one http(s) URL or several separated by commas")
        if len(set(urls)) != len(urls):
            raise ValueError("RASA_URL names the same Rasa server twice")
        return self

    def require_secrets(self) -> None:
        """Fail at start, with one line, when a key is missing (production) or malformed."""
        from storage.fieldcipher import decode_key

        self.hash_key()
        for key in self.encryption_keys():
            try:
                decode_key(key)
            except ValueError as error:
                raise ConfigurationError(f"ENCRYPTION_KEYS: {error}.") from None

    def hash_key(self) -> bytes:
        """The HMAC key for pseudonymous participant ids.

        In production it must be configured; locally it is generated once and kept in the data folder.
        """
        if self.id_hash_key:
            return self.id_hash_key.encode()
        return self._local_secret("id-hash.key", "ID_HASH_KEY", lambda: secrets.token_urlsafe(48)).encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
