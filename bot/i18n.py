"""The bot's view of the translations (see core/i18n.py); `_` marks strings for extraction."""

from core.i18n import LOCALE_DIR, catalog, gettext_noop, translate

_ = gettext_noop

__all__ = ["LOCALE_DIR", "_", "catalog", "gettext_noop", "translate"]
