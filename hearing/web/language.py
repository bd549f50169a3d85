"""Danish and English, switchable: the words of the bench and the panel.

The choice is a cookie (no account setting: the courtroom PC is shared);
without one, the browser's Accept-Language decides, and English is the
fallback. Keys are stable; each has both languages (a test checks).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import HTTPConnection

from hearing.web.routing import cookie_names

LANGUAGES = ("da", "en")

TEXT: dict[str, dict[str, str]] = {
    # the header
    "nav.docket": {"en": "Docket", "da": "Retsliste"},
    "nav.book": {"en": "Book a hearing", "da": "Book et retsmøde"},
    "nav.audit": {"en": "Audit log", "da": "Revisionslog"},
    "nav.signout": {"en": "Sign out", "da": "Log ud"},
    "nav.language": {"en": "Language", "da": "Sprog"},
    # the auditor's pages (the entries' sentences come from hearing/audit/sentences.py)
    "audit.title": {"en": "Audit log", "da": "Revisionslog"},
    "audit.help": {
        "en": "Opening a hearing's log records that you read it. To verify the whole log, run {command} "
        "with the public key.",
        "da": "Når du åbner et retsmødes log, registreres det, at du har læst den. Kør {command} med den "
        "offentlige nøgle for at kontrollere hele loggen.",
    },
    "audit.caption": {"en": "Hearings with audit entries", "da": "Retsmøder med poster i revisionsloggen"},
    "audit.hearing": {"en": "Hearing", "da": "Retsmøde"},
    "audit.case": {"en": "Case", "da": "Sag"},
    "audit.entries": {"en": "Entries", "da": "Poster"},
    "audit.last": {"en": "Last entry", "da": "Seneste post"},
    "audit.none": {"en": "No hearing has audit entries yet.", "da": "Intet retsmøde har poster i loggen endnu."},
    "audit.deleted": {"en": "(deleted)", "da": "(slettet)"},
    "audit.log_of": {"en": "Audit log of hearing", "da": "Revisionslog for retsmøde"},
    "audit.all": {"en": "All hearings", "da": "Alle retsmøder"},
    "audit.empty": {"en": "No entries.", "da": "Ingen poster."},
    "audit.times": {
        "en": "Times are the court's local time ({zone}).",
        "da": "Tidspunkter er rettens lokale tid ({zone}).",
    },
    # the system events page (issue 10): sign-ins, refusals, devices, accounts
    "audit.system": {"en": "System events", "da": "Systemhændelser"},
    "audit.system_link": {
        "en": "System events: sign-ins, refusals, devices and accounts",
        "da": "Systemhændelser: login, afvisninger, enheder og konti",
    },
    "audit.system_help": {
        "en": "Events that belong to no hearing, newest first. Opening this page records that you read it.",
        "da": "Hændelser, der ikke hører til et retsmøde, nyeste først. Når du åbner siden, registreres det, "
        "at du har læst den.",
    },
    "audit.filter": {"en": "Filter", "da": "Filtrér"},
    "audit.since": {"en": "From (date)", "da": "Fra (dato)"},
    "audit.until": {"en": "To (date, inclusive)", "da": "Til og med (dato)"},
    "audit.actor": {"en": "Actor", "da": "Aktør"},
    "audit.actor_help": {
        "en": "A user name, or user:ID, device:ID, system or anonymous.",
        "da": "Et brugernavn, eller user:ID, device:ID, system eller anonymous.",
    },
    "audit.action": {"en": "Action", "da": "Handling"},
    "audit.any_action": {"en": "All actions", "da": "Alle handlinger"},
    "audit.show": {"en": "Show", "da": "Vis"},
    "audit.reset": {"en": "Clear the filter", "da": "Ryd filteret"},
    "audit.older": {"en": "Older events", "da": "Ældre hændelser"},
    "audit.no_system": {"en": "No system events match.", "da": "Ingen systemhændelser passer."},
    "staff.judge": {"en": "judge", "da": "dommer"},
    "staff.clerk": {"en": "clerk", "da": "retssekretær"},
    "staff.custody_officer": {"en": "custody officer", "da": "arrestbetjent"},
    "staff.auditor": {"en": "auditor", "da": "revisor"},
    "staff.admin": {"en": "administrator", "da": "administrator"},
    # the panel
    "panel.title": {"en": "Speaker order", "da": "Taleorden"},
    "panel.readonly": {
        "en": "You are following the judge's panel; only the judge can change it.",
        "da": "Du følger dommerens panel; kun dommeren kan ændre det.",
    },
    "panel.floor": {"en": "The floor", "da": "Ordet"},
    "panel.judge_has_floor": {"en": "The judge has the floor.", "da": "Dommeren har ordet."},
    "panel.has_floor": {"en": "has the floor", "da": "har ordet"},
    "panel.kept_live": {"en": "Also kept live", "da": "Holdes også åben"},
    "panel.take_back": {"en": "Take back the floor", "da": "Tag ordet tilbage"},
    "panel.keep_previous": {"en": "Keep the previous speaker live", "da": "Lad den forrige taler blive åben"},
    "panel.mode": {"en": "Mode", "da": "Tilstand"},
    "panel.mode.open": {"en": "Open: everyone is heard", "da": "Åben: alle høres"},
    "panel.mode.controlled": {
        "en": "Controlled: only the judge, the floor and the interpreter",
        "da": "Styret: kun dommeren, den der har ordet og tolken",
    },
    "panel.recording.off": {"en": "Not recording", "da": "Optager ikke"},
    "panel.recording.on": {"en": "Recording", "da": "Optager"},
    "panel.queue": {"en": "Requests to speak", "da": "Anmodninger om ordet"},
    "panel.queue.empty": {"en": "No one has asked to speak.", "da": "Ingen har bedt om ordet."},
    "panel.queue.help": {
        "en": "Drag to reorder, or focus a request and press Alt+Up or Alt+Down.",
        "da": "Træk for at ændre rækkefølgen, eller vælg en anmodning og tryk Alt+Op eller Alt+Ned.",
    },
    "panel.priority": {"en": "clarification", "da": "afklaring"},
    "panel.grant": {"en": "Give the floor", "da": "Giv ordet"},
    "panel.grant_next": {"en": "Give the floor to the next", "da": "Giv ordet til den næste"},
    "panel.remove": {"en": "Remove", "da": "Fjern"},
    "panel.up": {"en": "Move up", "da": "Flyt op"},
    "panel.down": {"en": "Move down", "da": "Flyt ned"},
    "panel.skip": {"en": "Skip the first", "da": "Spring den første over"},
    "panel.clear": {"en": "Clear the queue", "da": "Ryd køen"},
    "panel.behalf": {"en": "Ask to speak on behalf of", "da": "Bed om ordet på vegne af"},
    "panel.add": {"en": "Add to the queue", "da": "Sæt i kø"},
    "panel.lobby": {"en": "Lobby", "da": "Venteværelse"},
    "panel.lobby.empty": {"en": "No one is waiting.", "da": "Ingen venter."},
    "panel.admit": {"en": "Admit", "da": "Lad komme ind"},
    "panel.deny": {"en": "Turn away", "da": "Afvis"},
    "panel.waiting": {"en": "waiting", "da": "venter"},
    "panel.participants": {"en": "Participants", "da": "Deltagere"},
    "panel.connected": {"en": "connected", "da": "forbundet"},
    "panel.not_connected": {"en": "not connected", "da": "ikke forbundet"},
    "panel.speaking": {"en": "speaking", "da": "taler"},
    "panel.muted": {"en": "muted", "da": "lyd slået fra"},
    "panel.in_consultation": {"en": "in private consultation", "da": "i fortrolig samtale"},
    "panel.mute": {"en": "Mute", "da": "Slå lyd fra"},
    "panel.unmute": {"en": "Unmute", "da": "Slå lyd til"},
    "panel.mute_all": {"en": "Mute all but the judge", "da": "Slå lyd fra for alle undtagen dommeren"},
    "panel.screening": {"en": "Selective mute and screening", "da": "Selektiv lydafbrydelse og afskærmning"},
    "panel.hide_source": {"en": "Hide", "da": "Skjul"},
    "panel.hide_from": {"en": "from", "da": "for"},
    "panel.medium": {"en": "What", "da": "Hvad"},
    "panel.medium.audio": {"en": "sound", "da": "lyd"},
    "panel.medium.video": {"en": "picture", "da": "billede"},
    "panel.hide": {"en": "Hide", "da": "Skjul"},
    "panel.unhide": {"en": "Show again", "da": "Vis igen"},
    "panel.hidden.empty": {"en": "Nothing is hidden.", "da": "Intet er skjult."},
    "panel.shortcuts": {
        "en": "Shortcuts: G gives the floor to the next, T takes it back, M mutes all but the judge, P pauses.",
        "da": "Genveje: G giver ordet til den næste, T tager det tilbage, M slår lyd fra for alle undtagen "
        "dommeren, P holder pause.",
    },
    "panel.offline": {"en": "Reconnecting to the hearing…", "da": "Genforbinder til retsmødet…"},
    "panel.online": {"en": "Live", "da": "Forbundet"},
    "panel.session_ended": {
        "en": "Your session has ended: sign in again to follow the hearing.",
        "da": "Din session er afsluttet: log ind igen for at følge retsmødet.",
    },
    "panel.health.good": {"en": "good", "da": "god"},
    "panel.health.poor": {"en": "poor", "da": "svag"},
    "panel.health.bad": {"en": "bad", "da": "dårlig"},
    "panel.health.gone": {"en": "no media", "da": "intet signal"},
    "panel.controls": {"en": "Hearing controls", "da": "Retsmødet"},
    "panel.videos": {"en": "Video link", "da": "Videoforbindelse"},
    "seat.judge": {"en": "The bench", "da": "Dommerpodiet"},
    "seat.courtroom": {"en": "Courtroom", "da": "Retssalen"},
    "seat.custody": {"en": "Custody facility", "da": "Arresten"},
    "seat.booth": {"en": "Consultation booth", "da": "Samtalerummet"},
    # Remote seats are named by their kind: "interpreter-12" is an interpreter's.
    "seat.interpreter": {"en": "Interpreter (remote)", "da": "Tolk (fjern)"},
    "seat.counsel": {"en": "Defence counsel (remote)", "da": "Forsvarer (fjern)"},
    "seat.prosecutor": {"en": "Prosecutor (remote)", "da": "Anklager (fjern)"},
    "seat.observer": {"en": "Observer (remote)", "da": "Tilhører (fjern)"},
    "role.prosecutor": {"en": "Prosecutor", "da": "Anklager"},
    "role.defence_counsel": {"en": "Defence counsel", "da": "Forsvarer"},
    "role.detainee": {"en": "Detainee", "da": "Sigtede"},
    "role.custody_officer": {"en": "Custody officer", "da": "Arrestbetjent"},
    "role.interpreter": {"en": "Interpreter", "da": "Tolk"},
    "role.judge": {"en": "Judge", "da": "Dommer"},
    "role.observer": {"en": "Observer", "da": "Tilhører"},
    "connection.courtroom": {"en": "in the courtroom", "da": "i retssalen"},
    "connection.custody": {"en": "at the custody facility", "da": "i arresten"},
    "connection.remote": {"en": "remote", "da": "fjerndeltagelse"},
    "kind.remand_extension": {"en": "Remand extension", "da": "Fristforlængelse"},
    "kind.other": {"en": "Other", "da": "Andet"},
    "hearing.kind": {"en": "Kind", "da": "Sagstype"},
    "hearing.time": {"en": "Time", "da": "Tidspunkt"},
    "hearing.courtroom": {"en": "Courtroom", "da": "Retssal"},
    "hearing.facility": {"en": "Custody facility", "da": "Arrest"},
    "hearing.detainee": {"en": "Detainee", "da": "Sigtede"},
    "hearing.interpreter": {"en": "Interpreter", "da": "Tolk"},
    "hearing.participants": {"en": "Participants", "da": "Deltagere"},
    "hearing.no_participants": {"en": "No participants yet.", "da": "Ingen deltagere endnu."},
    "media.connecting": {"en": "Connecting…", "da": "Forbinder…"},
    "media.connected": {"en": "Connected", "da": "Forbundet"},
    "media.failed": {"en": "Could not connect", "da": "Kunne ikke forbinde"},
    "media.idle": {"en": "Not connected", "da": "Ikke forbundet"},
    # Why the server ended the video link (its last message, docs/protocol.md).
    "media.gone.signed_out": {
        "en": "You signed out: the video link has ended.",
        "da": "Du er logget ud: videoforbindelsen er afsluttet.",
    },
    "media.gone.session_ended": {
        "en": "Your session has expired: sign in again.",
        "da": "Din session er udløbet: log ind igen.",
    },
    "media.gone.disabled": {"en": "Your account has been disabled.", "da": "Din konto er deaktiveret."},
    "media.gone.replaced": {
        "en": "A newer connection has taken this seat.",
        "da": "En nyere forbindelse har overtaget pladsen.",
    },
    "media.gone.ended": {"en": "The hearing has ended.", "da": "Retsmødet er slut."},
    "media.join": {"en": "Join the video link", "da": "Tilslut videoforbindelsen"},
    "media.leave": {"en": "Leave the video link", "da": "Forlad videoforbindelsen"},
    "media.main": {"en": "Main picture", "da": "Hovedbillede"},
    "media.source.judge": {"en": "The bench", "da": "Dommerpodiet"},
    "media.source.courtroom": {"en": "Courtroom program", "da": "Retssalens billede"},
    "media.source.custody": {"en": "Detainee (custody facility)", "da": "Sigtede (arresten)"},
    "media.source.booth": {"en": "Consultation booth", "da": "Samtalerummet"},
    "media.source.interpreter": {"en": "Interpreter", "da": "Tolk"},
    "media.source.counsel": {"en": "Defence counsel", "da": "Forsvarer"},
    "media.source.prosecutor": {"en": "Prosecutor", "da": "Anklager"},
    "media.source.observer": {"en": "Observer", "da": "Tilhører"},
    "media.no_picture": {"en": "No picture", "da": "Intet billede"},
    "media.reason.no_picture": {"en": "No picture is being sent", "da": "Der sendes intet billede"},
    "media.reason.lobby": {"en": "Waiting in the lobby", "da": "Venter i venteværelset"},
    "media.reason.consultation": {
        "en": "Private consultation: picture and sound are cut",
        "da": "Fortrolig samtale: billede og lyd er afbrudt",
    },
    "media.reason.screened": {"en": "Hidden by the judge", "da": "Skjult af dommeren"},
    "media.own_camera": {"en": "Your camera", "da": "Dit kamera"},
    # the error page and the sign-in pages
    "error.title": {"en": "Error", "da": "Fejl"},
    "error.code": {"en": "Error code", "da": "Fejlkode"},
    "error.quote": {
        "en": "Quote the code if you report the problem.",
        "da": "Oplys koden, hvis du melder problemet.",
    },
    "error.back": {"en": "Back to the start page", "da": "Tilbage til forsiden"},
    "error.internal": {
        "en": "Something went wrong on the server. The fault has been logged.",
        "da": "Der gik noget galt på serveren. Fejlen er logget.",
    },
    "signin.title": {"en": "Sign in", "da": "Log ind"},
    "signin.username": {"en": "User name", "da": "Brugernavn"},
    "signin.password": {"en": "Password", "da": "Adgangskode"},
    "signin.code": {"en": "Authenticator code", "da": "Kode fra godkendelsesappen"},
    "signin.code_help": {
        "en": "Six digits from your authenticator app. Leave empty on your very first sign-in.",
        "da": "Seks cifre fra din godkendelsesapp. Lad feltet stå tomt, første gang du logger ind.",
    },
    "signin.submit": {"en": "Sign in", "da": "Log ind"},
    "signin.failed.authentication_failed": {
        "en": "Sign-in failed. Check your details and try again.",
        "da": "Du blev ikke logget ind. Kontrollér dine oplysninger, og prøv igen.",
    },
    "signin.failed.rate_limited": {
        "en": "Too many attempts. Wait a minute and try again.",
        "da": "For mange forsøg. Vent et minut, og prøv igen.",
    },
    "signin.failed.signin_busy": {
        "en": "Sign-in is busy. Try again in a moment.",
        "da": "Der er travlt med at logge ind. Prøv igen om et øjeblik.",
    },
    "signin.failed.csrf_rejected": {
        "en": "The form has expired. Reload the page and try again.",
        "da": "Formularen er udløbet. Genindlæs siden, og prøv igen.",
    },
    "signin.enrol.title": {"en": "Set up your authenticator", "da": "Opsæt din godkendelsesapp"},
    "signin.enrol.help": {
        "en": "Scan this code with your authenticator app, then enter the six digits it shows. "
        "This page is shown only until you confirm.",
        "da": "Scan koden med din godkendelsesapp, og indtast de seks cifre, den viser. "
        "Siden vises kun, indtil du har bekræftet.",
    },
    "signin.enrol.qr": {"en": "QR code for your authenticator app", "da": "QR-kode til din godkendelsesapp"},
    "signin.enrol.cannot_scan": {"en": "Cannot scan?", "da": "Kan du ikke scanne?"},
    "signin.enrol.submit": {"en": "Confirm and sign in", "da": "Bekræft og log ind"},
    "signin.enrol.code_help": {
        "en": "Enter the enrolment code your administrator gave you. Only with it is your new authenticator shown.",
        "da": "Indtast den tilmeldingskode, du har fået af din administrator. "
        "Først med den vises din nye godkendelsesapp.",
    },
    "signin.enrol.code": {"en": "Enrolment code", "da": "Tilmeldingskode"},
    "signin.enrol.code_submit": {"en": "Continue", "da": "Fortsæt"},
    "state.scheduled": {"en": "scheduled", "da": "berammet"},
    "state.open": {"en": "open", "da": "åben"},
    "state.in_session": {"en": "in session", "da": "i gang"},
    "state.paused": {"en": "paused", "da": "pause"},
    "state.consultation": {"en": "private consultation", "da": "fortrolig samtale"},
    "state.adjourned": {"en": "adjourned", "da": "udsat"},
    "state.closed": {"en": "closed", "da": "afsluttet"},
    "state.converted_to_physical": {"en": "converted to physical", "da": "skiftet til fysisk fremmøde"},
    "transition.open": {"en": "Open", "da": "Åbn"},
    "transition.start": {"en": "Start", "da": "Begynd"},
    "transition.pause": {"en": "Pause", "da": "Hold pause"},
    "transition.resume": {"en": "Resume", "da": "Genoptag"},
    "transition.begin_consultation": {"en": "Private consultation", "da": "Fortrolig samtale"},
    "transition.end_consultation": {"en": "End consultation", "da": "Afslut samtalen"},
    "transition.adjourn": {"en": "Adjourn", "da": "Udsæt"},
    "transition.close": {"en": "End the hearing", "da": "Afslut retsmødet"},
    "transition.convert_to_physical": {"en": "Convert to physical", "da": "Skift til fysisk fremmøde"},
    # the detainee's kiosk (custody and booth devices): large words, one state at a time
    "kiosk.title": {"en": "Court hearing", "da": "Retsmøde"},
    "kiosk.language": {"en": "Language", "da": "Sprog"},
    "kiosk.case": {"en": "Case {case}", "da": "Sag {case}"},
    "kiosk.where": {"en": "{time} · {courtroom}", "da": "Kl. {time} · {courtroom}"},
    "kiosk.state.none": {"en": "No hearing today", "da": "Intet retsmøde i dag"},
    "kiosk.detail.none": {
        "en": "There is no hearing on this screen today.",
        "da": "Der er ikke noget retsmøde på denne skærm i dag.",
    },
    "kiosk.state.waiting": {"en": "Waiting for the court", "da": "Venter på retten"},
    "kiosk.detail.waiting": {
        "en": "The hearing starts at {time} in {courtroom}. The screen connects by itself when the court opens it.",
        "da": "Retsmødet begynder kl. {time} i {courtroom}. Skærmen forbinder selv, når retten åbner.",
    },
    "kiosk.state.connecting": {"en": "Connecting to the court …", "da": "Forbinder til retten …"},
    "kiosk.detail.connecting": {"en": "One moment.", "da": "Et øjeblik."},
    "kiosk.state.lobby": {"en": "In the waiting room", "da": "I venteværelset"},
    "kiosk.detail.lobby": {
        "en": "The court can see that you are waiting. The judge will let you in.",
        "da": "Retten kan se, at du venter. Dommeren lukker dig ind.",
    },
    "kiosk.state.admitted": {"en": "The court will begin shortly", "da": "Retten begynder om lidt"},
    "kiosk.detail.admitted": {"en": "The court can see and hear you.", "da": "Retten kan se og høre dig."},
    "kiosk.state.in_session": {"en": "The hearing is in session", "da": "Retsmødet er i gang"},
    "kiosk.detail.in_session": {"en": "The court can see and hear you.", "da": "Retten kan se og høre dig."},
    "kiosk.state.paused": {"en": "The hearing is paused", "da": "Retsmødet holder pause"},
    "kiosk.detail.paused": {
        "en": "Please stay in the room. The court will continue shortly.",
        "da": "Bliv venligst i lokalet. Retten fortsætter om lidt.",
    },
    "kiosk.state.consultation": {
        "en": "Private consultation with your counsel",
        "da": "Fortrolig samtale med din forsvarer",
    },
    "kiosk.detail.consultation": {
        "en": "Only the people in this consultation hear and see you. Nobody else hears or sees you.",
        "da": "Kun deltagerne i samtalen hører og ser dig. Ingen andre hører eller ser dig.",
    },
    "kiosk.state.reconnecting": {
        "en": "Connection poor — trying to reconnect",
        "da": "Dårlig forbindelse – prøver at genoprette",
    },
    "kiosk.detail.reconnecting": {
        "en": "The court is told. Please stay where you are.",
        "da": "Retten får besked. Bliv venligst, hvor du er.",
    },
    "kiosk.state.ended": {"en": "The hearing has ended", "da": "Retsmødet er slut"},
    "kiosk.detail.ended": {
        "en": "Thank you. The officer will tell you what happens now.",
        "da": "Tak. Betjenten fortæller dig, hvad der sker nu.",
    },
    "kiosk.state.denied": {"en": "The judge did not let this screen in", "da": "Dommeren lukkede ikke skærmen ind"},
    "kiosk.detail.denied": {"en": "Please call the officer.", "da": "Tilkald venligst betjenten."},
    "kiosk.state.not_enrolled": {"en": "This screen is not enrolled", "da": "Skærmen er ikke tilmeldt"},
    "kiosk.detail.not_enrolled": {"en": "Please call the officer.", "da": "Tilkald venligst betjenten."},
    "kiosk.state.replaced": {
        "en": "This screen was opened in another window",
        "da": "Skærmen er åbnet i et andet vindue",
    },
    "kiosk.detail.replaced": {"en": "Please call the officer.", "da": "Tilkald venligst betjenten."},
    "kiosk.notice.recording": {"en": "● Recording", "da": "● Optager"},
    "kiosk.notice.not_recorded": {
        "en": "This consultation is not recorded",
        "da": "Samtalen bliver ikke optaget",
    },
    "kiosk.notice.muted": {"en": "The judge has muted your sound", "da": "Dommeren har slået din lyd fra"},
    "kiosk.notice.hidden_audio": {"en": "Your sound is hidden from: {who}", "da": "Din lyd er skjult for: {who}"},
    "kiosk.notice.hidden_video": {
        "en": "Your picture is hidden from: {who}",
        "da": "Dit billede er skjult for: {who}",
    },
    "kiosk.notice.audio_only": {
        "en": "Audio only: the picture is paused while the connection is weak",
        "da": "Kun lyd: billedet er sat på pause, mens forbindelsen er svag",
    },
    # whom the kiosk's sound or picture is hidden from, by seat (its kind, for a remote seat)
    "kiosk.seat.judge": {"en": "the judge", "da": "dommeren"},
    "kiosk.seat.courtroom": {"en": "the courtroom", "da": "retssalen"},
    "kiosk.seat.custody": {"en": "the custody room", "da": "arresten"},
    "kiosk.seat.booth": {"en": "the consultation booth", "da": "samtalerummet"},
    "kiosk.seat.interpreter": {"en": "the interpreter", "da": "tolken"},
    "kiosk.seat.counsel": {"en": "defence counsel", "da": "forsvareren"},
    "kiosk.seat.prosecutor": {"en": "the prosecutor", "da": "anklageren"},
    "kiosk.seat.observer": {"en": "an observer", "da": "en tilhører"},
    "kiosk.seat.recorder": {"en": "the recording", "da": "optagelsen"},
    "kiosk.ask": {"en": "Ask to speak", "da": "Bed om ordet"},
    "kiosk.withdraw": {"en": "Withdraw", "da": "Træk tilbage"},
    "kiosk.queued": {
        "en": "You have asked to speak. The judge will give you the floor.",
        "da": "Du har bedt om ordet. Dommeren giver dig ordet.",
    },
    "kiosk.floor": {"en": "You have the floor", "da": "Du har ordet"},
    "kiosk.courtroom": {"en": "The courtroom", "da": "Retssalen"},
    "kiosk.interpreter": {"en": "Interpreter", "da": "Tolk"},
    "kiosk.self": {"en": "You", "da": "Dig"},
    "kiosk.no_interpreter_picture": {"en": "No picture of the interpreter", "da": "Intet billede af tolken"},
    "kiosk.no_picture": {"en": "No picture from the courtroom right now", "da": "Intet billede fra retssalen lige nu"},
}


def language(connection: HTTPConnection) -> str:
    chosen = connection.cookies.get(cookie_names(connection).language)
    if chosen in LANGUAGES:
        return chosen
    for part in connection.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "en"


def translator(lang: str) -> Callable[[str], str]:
    def t(key: str) -> str:
        return TEXT[key][lang]

    return t


def texts(lang: str, prefixes: tuple[str, ...]) -> dict[str, str]:
    """The texts a page's script needs, in one language."""
    return {key: value[lang] for key, value in TEXT.items() if key.startswith(prefixes)}
