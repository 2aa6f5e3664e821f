"""Waiting-room display (served by the station server): the 1920×1080 page a TV shows."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _

bp = Blueprint("display", __name__, template_folder="templates", static_folder="static",
               static_url_path="/display-static")
AUDIO_KEY = re.compile(r"[0-9a-f]{32}")
AUDIO_WAIT = 4.0  # seconds a fetch waits for audio still being made (usually made ahead)


@bp.get("/audio/<key>.wav")
def audio(key: str) -> Response:
    """A call's audio (chime and phrase), as the event's `audio_url` names it. No login: it is
    what the waiting room hears anyway. 404 for a key the station never named; 503 when it is
    still not made after a few seconds (the display then speaks with its browser's voice)."""
    announcer = current_app.extensions["clinicq"].announcer
    voice = announcer.voice if announcer is not None else None
    if voice is None or not AUDIO_KEY.fullmatch(key) or not voice.known(key):
        abort(404)
    data = voice.audio(key, wait=AUDIO_WAIT)
    if data is None:
        return Response("not ready", status=503, mimetype="text/plain",
                        headers={"Retry-After": "2"})
    # the same key is always the same sound: a display may keep it
    return Response(data, mimetype="audio/wav",
                    headers={"Cache-Control": "public, max-age=86400, immutable"})


@bp.get("/display")
def screen() -> str:
    ext = current_app.extensions["clinicq"]
    english = str(get_locale()) == "en"
    settings = ext.settings
    strings = {
        "now_calling": _("Now calling"), "next": _("Next"), "waiting": _("waiting"),
        "wait": _("about %(n)s min", n="{n}"), "recent": _("Recent calls"),
        "please_go": _("please go to"), "offline": _("Reconnecting to the station…"),
        "no_token": _("This display is not paired yet. Open it with #token=… from the admin."),
        "idle": _("—"), "paused": _("On break"),
        "all_paused": _("counters on a break"),
        "minutes_left": _("%(n)s min left", n="{n}"), "may_leave": _("may leave"),
        "more": _("and %(n)s more", n="{n}"), "released": _("observation over, you may leave"),
        "offline_since": _("Connection lost — last update %(time)s", time="{time}"),
        "enable_sound": _("Tap to turn the sound on"),
        "enable_sound_hint": _("Once per display: the browser only plays sound after a tap"),
        "sound_on": _("sound on"), "sound_off": _("sound off"),
        "min": _("min"), "nobody": _("nobody waiting"),
        "nobody_observing": _("Nobody is in observation"),
    }
    a = settings.announce
    sound = {"engine": "browser" if a.engine == "browser" else "station",
             "repeat": a.repeat, "volume": a.volume}
    return render_template(
        "display.html", settings=settings, strings=strings,
        services={c: s.name_en if english else s.name for c, s in settings.services.items()},
        counters={c: i.name_en if english else i.name for c, i in settings.counters.items()},
        sound=sound,
    )
