"""The coach pages (Starlette + Jinja2, server-rendered, no JavaScript needed), mounted at /coach."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from telegram.ext import Application

from bot.coach import auth, charts, exports
from bot.coach import labels as L
from bot.coach.headers import SecurityHeaders, security_headers
from bot.coach.i18n import UI_LANGUAGE, N_c, _c
from bot.coach.services import CoachServices, coach_services
from bot.coach.summary import VOICE_NOTE_ID, build_summary
from core.settings import Settings
from storage.coach import (
    ALLOWED_TRANSITIONS,
    REVIEW_STATUSES,
    SORT_COLUMNS,
    AuditLogRepository,
    AuditQuery,
    CoachSessionRepository,
    CoachUserRepository,
    LoginThrottle,
    ProfileFilter,
    ReviewRepository,
    TransitionError,
    count_profiles,
    distinct_values,
    list_profiles,
    programme_overview,
    tombstone,
)
from storage.coach_models import ACTOR_UNKNOWN, AuditAction, CoachRole, CoachSession, CoachUser
from storage.db import session_scope
from storage.models import Profile, ProfileStatus
from storage.voice import read_voice

logger = logging.getLogger(__name__)

COACH_PREFIX = "/coach"
PACKAGE_DIR = Path(__file__).resolve().parent
PAGE_SIZE = 50
MAX_NOTE_LENGTH = 4000
_VIDEO_LINK = re.compile(r"^https://\S{3,500}$")

NOTICE_TEXTS = {
    "status_changed": N_c("Status changed."),
    "assigned": N_c("Coach assignment saved."),
    "note_added": N_c("Note saved."),
    "interview_scheduled": N_c("Interview scheduled. The invitation is being sent through the bot."),
    "interview_recorded_only": N_c("Interview recorded. The message could not be sent: {reason}"),
    "transition_not_allowed": N_c("This status change is not allowed."),
    "note_empty": N_c("The note is empty."),
    "interview_invalid": N_c("Please give a date, a time and a place or a https:// video link."),
    "interview_not_possible": N_c("An interview can be scheduled once the profile is in review."),
    "unknown_coach": N_c("There is no such coach account."),
}
SEND_ERRORS = {
    "no_telegram": N_c("the bot runs without Telegram (local mode)."),
    "no_chat": N_c("the bot has no Telegram chat with this person."),
    "no_coach_chat": N_c("no coach chat is configured."),
}


def isolate(value: object) -> Markup:
    """Text someone typed, escaped and bidi-isolated: a right-to-left override in it cannot turn
    the text around it."""
    return Markup("<bdi>{}</bdi>").format(value)


def fill(template: str, **values: object) -> Markup:
    """A translated text with placeholders: the text and plain values are escaped, isolated values
    (see isolate) are kept as they are."""
    return escape(template).format(**values)


def is_https_link(value: object) -> bool:
    """Only https links become clickable (never javascript: or data:)."""
    return isinstance(value, str) and _VIDEO_LINK.match(value) is not None


@dataclass
class Ctx:
    """One request: the form (for POST), the database session and the logged-in coach."""

    request: Request
    form: FormData | None
    db: Session
    services: CoachServices
    user: CoachUser | None = None
    coach_session: CoachSession | None = None
    kick_outbox: bool = False
    cookies: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else ""

    def audit(self, action: AuditAction, profile_id: str | None = None, detail: str | None = None) -> None:
        """Record what the logged-in coach did, in the request's unit of work (never any content)."""
        assert self.user is not None
        AuditLogRepository(self.db).add(self.user.username, action, profile_id, detail)


Handler = Callable[[Ctx], Response]


class PageEnd(Exception):
    """Ends a page early with this response (a missing or deleted profile)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class CoachPages:
    def __init__(self, services: CoachServices) -> None:
        self.services = services
        self.settings = services.settings
        self.env = Environment(
            loader=FileSystemLoader(PACKAGE_DIR / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            _c=_c,
            L=L,
            prefix=COACH_PREFIX,
            lang=UI_LANGUAGE,
            country_name=L.country_name,
            language_name=L.language_name,
            status_label=lambda code: L.label(L.STATUS, getattr(code, "value", code)),
        )
        self.env.filters["when"] = self.format_when
        self.env.filters["bdi"] = isolate
        self.env.filters["fill"] = fill
        self.env.tests["https_link"] = is_https_link

    # -- helpers -------------------------------------------------------------------------------

    def format_when(self, moment: datetime | None, pattern: str = "dd.MM.yyyy HH:mm") -> str:
        if moment is None:
            return "–"
        return format_datetime(moment, pattern, tzinfo=self.services.timezone, locale=UI_LANGUAGE)

    def render(self, ctx: Ctx, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(
            user=ctx.user,
            csrf_token=ctx.coach_session.csrf_token if ctx.coach_session else "",
            notice=self.notice(ctx),
            **values,
        )
        return HTMLResponse(html, status_code=status_code)

    def notice(self, ctx: Ctx) -> str | None:
        code = ctx.request.query_params.get("notice", "")
        text = NOTICE_TEXTS.get(code)
        if text is None:
            return None
        reason = SEND_ERRORS.get(ctx.request.query_params.get("reason", ""), "")
        return _c(text).format(reason=_c(reason) if reason else "")

    def error(self, ctx: Ctx, status_code: int, message: str) -> HTMLResponse:
        return self.render(ctx, "error.html", status_code=status_code, title=_c("Error"), message=message)

    def profile(self, ctx: Ctx) -> Profile:
        """The submitted profile of the URL; else the page ends with 404, or with 410 and the
        tombstone ("withdrawn, deleted on ...") when the profile was deleted."""
        profile_id = ctx.request.path_params["profile_id"]
        profile = ctx.db.get(Profile, profile_id)
        if profile is not None and profile.status is not ProfileStatus.IN_PROGRESS:
            return profile
        gone = tombstone(ctx.db, profile_id)
        if gone is not None:
            page = self.render(ctx, "tombstone.html", 410, title=_c("Deleted profile"), tombstone=gone)
            raise PageEnd(page)
        raise PageEnd(self.error(ctx, 404, _c("There is no such profile.")))

    @staticmethod
    def back_to_profile(profile_id: str, notice: str, **extra: str) -> RedirectResponse:
        query = urlencode({"notice": notice, **extra})
        return RedirectResponse(f"{COACH_PREFIX}/profiles/{profile_id}?{query}#top", status_code=303)

    # -- login and logout ----------------------------------------------------------------------

    def login_form(self, ctx: Ctx, error: str | None = None, status_code: int = 200) -> Response:
        token = auth.new_token()
        response = self.render(
            ctx,
            "login.html",
            status_code=status_code,
            title=_c("Log in"),
            login_csrf=token,
            error=error,
            next=self.safe_next(ctx.request.query_params.get("next") or ctx.field("next")),
        )
        self.set_cookie(response, auth.LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    @staticmethod
    def safe_next(value: str | None) -> str:
        # Only paths inside the coach pages: no open redirect to another site.
        if (
            value
            and value.startswith(f"{COACH_PREFIX}/")
            and not value.startswith("//")
            and "\\" not in value
        ):
            return value
        return f"{COACH_PREFIX}/"

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=COACH_PREFIX,
            httponly=True,
            samesite="lax",
            secure=self.settings.secure_cookies,
        )

    def login_page(self, ctx: Ctx) -> Response:
        # Shown even when logged in: logging in again switches the account (with a new session id).
        return self.login_form(ctx)

    def login_submit(self, ctx: Ctx) -> Response:
        if not auth.tokens_equal(ctx.field("csrf_token"), ctx.request.cookies.get(auth.LOGIN_CSRF_COOKIE)):
            return self.error(ctx, 403, _c("The form has expired. Please reload the page and try again."))
        username = ctx.field("username")[:64]
        password = ctx.field("password")
        client_ip = ctx.request.client.host if ctx.request.client else "unknown"
        throttle = LoginThrottle(ctx.db)
        user = CoachUserRepository(ctx.db).get_by_username(username)
        # The audit log names an account only when it exists: a typed name may be anything,
        # even a password typed into the wrong field.
        actor = user.username if user is not None else ACTOR_UNKNOWN
        audit = AuditLogRepository(ctx.db)
        if throttle.blocked(username.casefold(), client_ip):
            audit.add(actor, AuditAction.LOGIN_FAILED, detail="throttled")
            return self.login_form(
                ctx, _c("Too many failed attempts. Please wait 15 minutes and try again."), status_code=429
            )
        if user is None or not user.active:
            auth.burn_verification_time(password)
            ok = False
        else:
            ok = auth.verify_password(user.password_hash, password)
        if not ok or user is None:
            throttle.record_failure(username.casefold(), client_ip)
            reason = "unknown_user" if user is None else ("inactive" if not user.active else "wrong_password")
            audit.add(actor, AuditAction.LOGIN_FAILED, detail=reason)
            return self.login_form(ctx, _c("Username or password is wrong."), status_code=401)
        throttle.clear(username.casefold(), client_ip)
        if auth.hasher().check_needs_rehash(user.password_hash):
            user.password_hash = auth.hasher().hash(password)
        # A new session id at every login (no fixation): the old cookie, if any, is dropped.
        old = ctx.request.cookies.get(auth.SESSION_COOKIE)
        sessions = CoachSessionRepository(ctx.db)
        if old:
            sessions.delete(auth.token_hash(old))
        sessions.delete_expired()
        token = auth.new_token()
        lifetime = timedelta(hours=self.settings.coach_session_hours)
        sessions.create(user, auth.token_hash(token), auth.new_token(), lifetime)
        user.last_login_at = datetime.now(self.services.timezone)
        audit.add(user.username, AuditAction.LOGIN)
        response = RedirectResponse(self.safe_next(ctx.field("next")), status_code=303)
        self.set_cookie(response, auth.SESSION_COOKIE, token, max_age=int(lifetime.total_seconds()))
        response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path=COACH_PREFIX)
        logger.info("coach %s logged in", user.id)
        return response

    def logout(self, ctx: Ctx) -> Response:
        assert ctx.coach_session is not None
        CoachSessionRepository(ctx.db).delete(ctx.coach_session.token_hash)
        ctx.audit(AuditAction.LOGOUT)
        response = RedirectResponse(f"{COACH_PREFIX}/login", status_code=303)
        response.delete_cookie(auth.SESSION_COOKIE, path=COACH_PREFIX)
        return response

    # -- profile list --------------------------------------------------------------------------

    def list_filter(self, ctx: Ctx, page_size: int = PAGE_SIZE) -> tuple[ProfileFilter, dict[str, Any]]:
        params = ctx.request.query_params
        status = params.get("status", "")
        country = params.get("country", "")
        language = params.get("language", "")
        goal = params.get("goal", "")
        coach = params.get("coach", "")
        text = params.get("q", "")[:200]
        sort = params.get("sort", "submitted")
        sort = sort if sort in SORT_COLUMNS else "submitted"
        direction = "asc" if params.get("dir") == "asc" else "desc"
        try:
            page = max(1, min(int(params.get("page", "1")), 100000))
        except ValueError:
            page = 1
        countries = distinct_values(ctx.db, Profile.return_country)
        languages = sorted(
            set(distinct_values(ctx.db, Profile.chat_language))
            | set(distinct_values(ctx.db, Profile.interview_language)),
            key=L.language_name,
        )
        coaches = CoachUserRepository(ctx.db).usernames()
        query = ProfileFilter(
            statuses=[status] if status in {s.value for s in REVIEW_STATUSES} else [],
            country=country or None,
            language=language or None,
            goal=goal if goal in L.GOAL else None,
            coach=coach or None,
            terms=L.expand_search(text, countries, languages, coaches),
            sort=sort,
            descending=direction == "desc",
            page=page,
            page_size=page_size,
            sort_labels={
                "country": {c: L.country_name(c) for c in countries},
                "chat_language": {c: L.language_name(c) for c in languages},
                "interview_language": {c: L.language_name(c) for c in languages},
                "goal": {c: L.label(L.GOAL, c) for c in L.GOAL},
                "status": {s.value: str(i) for i, s in enumerate(REVIEW_STATUSES)},
            },
        )
        chosen = {
            "status": status,
            "country": country,
            "language": language,
            "goal": goal,
            "coach": coach,
            "q": text,
            "sort": sort,
            "dir": direction,
        }
        options = {
            "countries": sorted(countries, key=L.country_name),
            "languages": languages,
            "coaches": coaches,
        }
        return query, {"chosen": chosen, "options": options}

    def list_page(self, ctx: Ctx) -> Response:
        query, view = self.list_filter(ctx)
        total = count_profiles(ctx.db, query)
        pages = max(1, -(-total // query.page_size))
        query.page = min(query.page, pages)
        rows = list_profiles(ctx.db, query)
        chosen = view["chosen"]
        filters = {k: v for k, v in chosen.items() if v and k not in ("sort", "dir")}

        def link(**changes: Any) -> str:
            merged = {**chosen, "page": query.page, **changes}
            return "?" + urlencode({k: v for k, v in merged.items() if v not in ("", None)})

        return self.render(
            ctx,
            "list.html",
            title=_c("Profiles"),
            rows=rows,
            total=total,
            page=query.page,
            pages=pages,
            link=link,
            export_query=urlencode({**filters, "sort": chosen["sort"], "dir": chosen["dir"]}),
            statuses=REVIEW_STATUSES,
            goals=L.GOAL,
            **view,
        )

    # -- the summary ---------------------------------------------------------------------------

    def profile_page(self, ctx: Ctx) -> Response:
        profile = self.profile(ctx)
        ctx.audit(AuditAction.PROFILE_VIEWED, profile.id)
        review = ReviewRepository(ctx.db)
        appointments = review.appointments(profile.id)
        latest = appointments[0] if appointments else None
        return self.render(
            ctx,
            "profile.html",
            title=_c("Pre-interview summary"),
            profile=profile,
            summary=build_summary(profile, self.services.translator),
            transitions=sorted(
                ALLOWED_TRANSITIONS[profile.status], key=lambda s: list(ProfileStatus).index(s)
            ),
            history=review.history(profile.id),
            notes=review.notes(profile.id),
            appointments=appointments,
            latest=latest,
            send_errors=SEND_ERRORS,
            coaches=CoachUserRepository(ctx.db).usernames(),
            can_schedule=profile.status in (ProfileStatus.IN_REVIEW, ProfileStatus.INTERVIEW_SCHEDULED),
            can_message=self.services.can_message_returnees,
        )

    def print_page(self, ctx: Ctx) -> Response:
        profile = self.profile(ctx)
        ctx.audit(AuditAction.PRINTED, profile.id)
        return self.render(
            ctx,
            "print.html",
            title=_c("Pre-interview summary"),
            profile=profile,
            summary=build_summary(profile, self.services.translator),
            latest=next(iter(ReviewRepository(ctx.db).appointments(profile.id)), None),
        )

    def voice_note(self, ctx: Ctx) -> Response:
        profile = self.profile(ctx)
        voice_id = ctx.request.path_params["voice_id"]
        if not VOICE_NOTE_ID.match(voice_id):
            return Response(status_code=404)
        notes = {n.get("id"): n for n in profile.answers.get("voice_notes") or [] if isinstance(n, dict)}
        if voice_id not in notes:
            return Response(status_code=404)
        path = self.settings.voice_dir / profile.id / f"{voice_id}.ogg"
        if not path.is_file():
            return Response(status_code=404)
        ctx.audit(AuditAction.VOICE_NOTE_PLAYED, profile.id)
        return Response(
            read_voice(path),  # encrypted at rest (storage/voice.py)
            media_type=str(notes[voice_id].get("mime_type") or "audio/ogg"),
            headers={"Cache-Control": "private, no-store"},
        )

    # -- workflow ------------------------------------------------------------------------------

    def change_status(self, ctx: Ctx) -> Response:
        profile = self.profile(ctx)
        assert ctx.user is not None
        try:
            change = ReviewRepository(ctx.db).change_status(profile, ctx.field("status"), ctx.user.username)
        except (TransitionError, ValueError):
            return self.back_to_profile(profile.id, "transition_not_allowed")
        ctx.audit(AuditAction.STATUS_CHANGED, profile.id, change.to_status.value)
        return self.back_to_profile(profile.id, "status_changed")

    def assign(self, ctx: Ctx) -> Response:
        profile = self.profile(ctx)
        username = ctx.field("coach")
        if username and username not in CoachUserRepository(ctx.db).usernames():
            return self.back_to_profile(profile.id, "unknown_coach")
        ReviewRepository(ctx.db).assign(profile, username or None)
        # The account name is the detail: it names a coach, not the person.
        ctx.audit(AuditAction.COACH_ASSIGNED, profile.id, username or None)
        return self.back_to_profile(profile.id, "assigned")

    def add_note(self, ctx: Ctx) -> Response:
        profile = self.profile(ctx)
        text = ctx.field("text")[:MAX_NOTE_LENGTH]
        if not text:
            return self.back_to_profile(profile.id, "note_empty")
        assert ctx.user is not None
        ReviewRepository(ctx.db).add_note(profile.id, ctx.user.username, text)
        ctx.audit(AuditAction.NOTE_ADDED, profile.id)
        return self.back_to_profile(profile.id, "note_added")

    def schedule(self, ctx: Ctx) -> Response:
        profile = self.profile(ctx)
        if profile.status not in (ProfileStatus.IN_REVIEW, ProfileStatus.INTERVIEW_SCHEDULED):
            return self.back_to_profile(profile.id, "interview_not_possible")
        place, link = ctx.field("place")[:300], ctx.field("video_link")[:500]
        try:
            local = datetime.fromisoformat(f"{ctx.field('date')}T{ctx.field('time')}")
        except ValueError:
            local = None
        if (
            local is None
            or local.tzinfo is not None
            or not (place or link)
            or (link and not _VIDEO_LINK.match(link))
        ):
            return self.back_to_profile(profile.id, "interview_invalid")
        assert ctx.user is not None
        appointment = ReviewRepository(ctx.db).schedule_interview(
            profile,
            local.replace(tzinfo=self.services.timezone),
            ctx.user.username,
            place=place,
            video_link=link,
            can_send=self.services.can_message_returnees,
        )
        ctx.audit(AuditAction.INTERVIEW_SCHEDULED, profile.id)
        if appointment.message_error:
            return self.back_to_profile(
                profile.id, "interview_recorded_only", reason=appointment.message_error
            )
        ctx.kick_outbox = True
        return self.back_to_profile(profile.id, "interview_scheduled")

    # -- exports -------------------------------------------------------------------------------

    def export_profile_json(self, ctx: Ctx) -> Response:
        profile = self.profile(ctx)
        try:
            body = exports.profile_json(profile)
        except exports.IncompleteProfileError as error:
            return self.error(
                ctx,
                409,
                _c("This profile cannot be exported yet; missing: {fields}").format(
                    fields=", ".join(error.missing)
                ),
            )
        except exports.ValidationError as error:
            logger.warning(
                "profile %s breaks the export schema at %s",
                profile.id,
                "/".join(map(str, error.absolute_path)),
            )
            return self.error(
                ctx, 422, _c("This profile breaks the export format; please tell the administrator.")
            )
        ctx.audit(AuditAction.EXPORTED_JSON, profile.id)
        return Response(
            body,
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="profile-{profile.id}.json"'},
        )

    def export_list(self, ctx: Ctx, kind: str) -> Response:
        query, _view = self.list_filter(ctx)
        profiles = exports.profiles_for_export(ctx.db, query)
        stamp = datetime.now(self.services.timezone).strftime("%Y-%m-%d")
        assert ctx.user is not None
        audit = AuditLogRepository(ctx.db)
        if kind == "csv":
            body = exports.profiles_csv(profiles, self.format_when)
            audit.add_for_profiles(ctx.user.username, AuditAction.EXPORTED_CSV, (p.id for p in profiles))
            return Response(
                body,
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="profile-{stamp}.csv"'},
            )
        data, skipped, exported = exports.profiles_json(profiles)
        audit.add_for_profiles(ctx.user.username, AuditAction.EXPORTED_JSON_LIST, exported)
        return Response(
            data,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="profile-{stamp}.json"',
                "X-Skipped-Incomplete": str(skipped),
            },
        )

    # -- overview and admin --------------------------------------------------------------------

    def overview(self, ctx: Ctx) -> Response:
        data = programme_overview(ctx.db)
        target = self.settings.programme_target
        return self.render(
            ctx,
            "overview.html",
            title=_c("Programme overview"),
            data=data,
            target=target,
            target_chart=charts.bar_chart(
                [(_c("Participants"), data.participants), (_c("Programme target"), target)],
                _c("Participants against the programme target"),
            ),
            status_chart=charts.bar_chart(
                [(L.label(L.STATUS, k), v) for k, v in data.by_status.items()], _c("Profiles by status")
            ),
            country_chart=charts.bar_chart(
                [(L.country_name(k), v) for k, v in data.by_country.items()], _c("Profiles by return country")
            ),
            language_chart=charts.bar_chart(
                [(L.language_name(k), v) for k, v in data.by_language.items()],
                _c("Profiles by chat language"),
            ),
            month_chart=charts.bar_chart(
                [(charts.month_label(k), v) for k, v in data.by_month.items()],
                _c("Submitted profiles by month"),
            ),
            funnel_chart=charts.bar_chart(
                [(_c(charts.FUNNEL_STEPS[k]), v) for k, v in data.funnel.items()], _c("Funnel")
            ),
        )

    def audit_log(self, ctx: Ctx) -> Response:
        params = ctx.request.query_params
        actor = params.get("user", "")[:64]
        action_code = params.get("action", "")
        action = AuditAction(action_code) if action_code in AuditAction.__members__.values() else None
        profile_id = params.get("profile", "")[:32]
        try:
            page = max(1, min(int(params.get("page", "1")), 100000))
        except ValueError:
            page = 1
        repository = AuditLogRepository(ctx.db)
        query = AuditQuery(actor=actor or None, action=action, profile_id=profile_id or None, page=page)
        total = repository.count(query)
        pages = max(1, -(-total // query.page_size))
        query.page = min(query.page, pages)
        chosen = {"user": actor, "action": action.value if action else "", "profile": profile_id}

        def link(**changes: Any) -> str:
            merged = {**chosen, "page": query.page, **changes}
            return "?" + urlencode({k: v for k, v in merged.items() if v not in ("", None)})

        return self.render(
            ctx,
            "audit.html",
            title=_c("Audit log"),
            entries=repository.list(query),
            total=total,
            page=query.page,
            pages=pages,
            link=link,
            chosen=chosen,
            actors=repository.actors(),
            actions=L.AUDIT_ACTION,
            detail_text=L.audit_detail,
        )

    def users(self, ctx: Ctx) -> Response:
        return self.render(
            ctx, "users.html", title=_c("Accounts"), accounts=CoachUserRepository(ctx.db).list()
        )


# -- routing: every route names its role; POST forms need the session's CSRF token ---------------

PUBLIC = None


def _authenticate(ctx: Ctx) -> None:
    token = ctx.request.cookies.get(auth.SESSION_COOKIE)
    if not token:
        return
    found = CoachSessionRepository(ctx.db).get_valid(auth.token_hash(token))
    if found is not None:
        ctx.coach_session, ctx.user = found


def _guarded(pages: CoachPages, handler: Handler, role: CoachRole | None) -> Callable[[Request], Any]:
    def checked(ctx: Ctx) -> Response:
        """The handler's response, or why the request may not reach it."""
        request = ctx.request
        if role is not None:
            if ctx.user is None:
                if request.method == "GET":
                    target = f"{COACH_PREFIX}/login?" + urlencode({"next": str(request.url.path)})
                    return RedirectResponse(target, status_code=303)
                return pages.error(ctx, 401, _c("Please log in."))
            if role is CoachRole.ADMIN and ctx.user.role is not CoachRole.ADMIN:
                return pages.error(ctx, 403, _c("This page is for administrators."))
            # Every POST of a logged-in page carries the session's CSRF token (login has its own).
            if request.method not in ("GET", "HEAD"):
                assert ctx.coach_session is not None
                if not auth.tokens_equal(ctx.field("csrf_token"), ctx.coach_session.csrf_token):
                    return pages.error(
                        ctx, 403, _c("The form has expired. Please reload the page and try again.")
                    )
        try:
            return handler(ctx)
        except PageEnd as end:
            return end.response

    def run(request: Request, form: FormData | None) -> tuple[Response, bool]:
        with session_scope(pages.services.session_factory) as db:
            ctx = Ctx(request=request, form=form, db=db, services=pages.services)
            _authenticate(ctx)
            response = checked(ctx)
            # Pages hold personal data: never cached (static files are, see SecurityHeaders).
            response.headers.setdefault("Cache-Control", "no-store")
            return response, ctx.kick_outbox

    async def endpoint(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=50) if request.method == "POST" else None
        try:
            response, kick = await run_in_threadpool(run, request, form)
        finally:
            if form is not None:
                await form.close()
        if kick:
            pages.services.kick_outbox()
        return response

    return endpoint


@dataclass(frozen=True)
class PageRoute:
    path: str
    name: str
    role: CoachRole | None
    methods: tuple[str, ...] = ("GET",)


# The role every page needs (None: public). Tests walk this table, so no route is forgotten.
PAGE_ROUTES: tuple[PageRoute, ...] = (
    PageRoute("/login", "login_page", PUBLIC),
    PageRoute("/login", "login_submit", PUBLIC, ("POST",)),
    PageRoute("/logout", "logout", CoachRole.COACH, ("POST",)),
    PageRoute("/", "list_page", CoachRole.COACH),
    PageRoute("/export.csv", "export_csv", CoachRole.COACH),
    PageRoute("/export.json", "export_json", CoachRole.COACH),
    PageRoute("/overview", "overview", CoachRole.COACH),
    PageRoute("/profiles/{profile_id}", "profile_page", CoachRole.COACH),
    PageRoute("/profiles/{profile_id}/print", "print_page", CoachRole.COACH),
    PageRoute("/profiles/{profile_id}/export.json", "export_profile_json", CoachRole.COACH),
    PageRoute("/profiles/{profile_id}/voice/{voice_id}", "voice_note", CoachRole.COACH),
    PageRoute("/profiles/{profile_id}/status", "change_status", CoachRole.COACH, ("POST",)),
    PageRoute("/profiles/{profile_id}/assign", "assign", CoachRole.COACH, ("POST",)),
    PageRoute("/profiles/{profile_id}/notes", "add_note", CoachRole.COACH, ("POST",)),
    PageRoute("/profiles/{profile_id}/interview", "schedule", CoachRole.COACH, ("POST",)),
    PageRoute("/admin/users", "users", CoachRole.ADMIN),
    PageRoute("/admin/audit", "audit_log", CoachRole.ADMIN),
)


def build_coach_app(
    settings: Settings, application: Application[Any, Any, Any, Any, Any, Any] | None
) -> Starlette:
    """The coach pages; mount at COACH_PREFIX. `application` is None without Telegram."""
    pages = CoachPages(coach_services(settings, application))
    handlers: dict[str, Handler] = {
        "export_csv": lambda ctx: pages.export_list(ctx, "csv"),
        "export_json": lambda ctx: pages.export_list(ctx, "json"),
    }
    routes: list[BaseRoute] = []
    for page in PAGE_ROUTES:
        handler = handlers.get(page.name) or getattr(pages, page.name)
        routes.append(
            Route(page.path, _guarded(pages, handler, page.role), methods=list(page.methods), name=page.name)
        )
    routes.append(Mount("/static", app=StaticFiles(directory=PACKAGE_DIR / "static"), name="static"))
    https = settings.secure_cookies

    async def server_error(request: Request, exc: Exception) -> Response:
        # Runs outside the middleware stack (Starlette's ServerErrorMiddleware), so the headers
        # are set here too; the error itself is logged by the server.
        html = pages.env.get_template("error.html").render(
            user=None,
            csrf_token="",
            notice=None,
            title=_c("Error"),
            message=_c("Something went wrong. Please try again later."),
        )
        return HTMLResponse(
            html, status_code=500, headers={**security_headers(https), "Cache-Control": "no-store"}
        )

    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders, https=https)],
        exception_handlers={500: server_error},
    )
    app.state.pages = pages
    return app
