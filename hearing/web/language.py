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
    # the custody officer's console (issue 11) and the check-in on the hearing page
    "nav.custody": {"en": "Custody console", "da": "Arrestkonsol"},
    "custody.title": {"en": "Custody console", "da": "Arrestkonsol"},
    "custody.heading": {"en": "Today's hearings", "da": "Dagens retsmøder"},
    "custody.help": {
        "en": "Assign the hearing room, check the detainee in against the booking, and connect the kiosk. "
        "The status refreshes by itself.",
        "da": "Tildel videorummet, tjek sigtede ind mod berammelsen, og forbind kiosken. Status opdateres af sig selv.",
    },
    "custody.none": {"en": "No hearings at your facility today.", "da": "Ingen retsmøder i jeres arrest i dag."},
    "custody.courtroom": {"en": "Courtroom", "da": "Retssal"},
    "custody.detainee": {"en": "Detainee (booking)", "da": "Sigtede (berammelse)"},
    "custody.reference": {"en": "Reference", "da": "Reference"},
    "custody.room": {"en": "Hearing room", "da": "Videorum"},
    "custody.room.any": {"en": "Not assigned (any room)", "da": "Ikke tildelt (ethvert rum)"},
    "custody.room.save": {"en": "Save room", "da": "Gem rum"},
    "custody.kiosk": {"en": "Kiosk", "da": "Kiosk"},
    "custody.kiosk.online": {"en": "answering", "da": "svarer"},
    "custody.kiosk.offline": {"en": "not answering", "da": "svarer ikke"},
    "custody.kiosk.testing": {"en": "running a test call", "da": "kører prøveopkald"},
    "custody.kiosk.no_room": {"en": "no room assigned", "da": "intet rum tildelt"},
    "custody.link": {"en": "Video link", "da": "Videoforbindelse"},
    "custody.link.connected": {"en": "connected to the hearing", "da": "forbundet til retsmødet"},
    "custody.link.not_connected": {"en": "not connected", "da": "ikke forbundet"},
    "custody.test_call": {"en": "Last test call", "da": "Seneste prøveopkald"},
    "custody.test_call.none": {"en": "none yet", "da": "ingen endnu"},
    "custody.test_call.at": {"en": "{grade}, at {time}", "da": "{grade}, kl. {time}"},
    "custody.grade.good": {"en": "good", "da": "god"},
    "custody.grade.poor": {"en": "poor", "da": "svag"},
    "custody.grade.bad": {"en": "bad", "da": "dårlig"},
    "custody.connect": {"en": "Connect kiosk", "da": "Forbind kiosken"},
    "custody.run_test": {"en": "Run test call", "da": "Kør prøveopkald"},
    "custody.done.connect": {"en": "The kiosk was asked to connect.", "da": "Kiosken er bedt om at forbinde."},
    "custody.done.test_call": {
        "en": "The kiosk was asked to run a test call.",
        "da": "Kiosken er bedt om at køre et prøveopkald.",
    },
    "custody.done.room": {"en": "Hearing room saved.", "da": "Videorummet er gemt."},
    "custody.done.check_in": {"en": "Check-in saved.", "da": "Indtjekningen er gemt."},
    "custody.stale": {
        "en": "The status could not be refreshed: trying again.",
        "da": "Status kunne ikke opdateres: prøver igen.",
    },
    "custody.error.check_in_unconfirmed": {
        "en": "Confirm the name and the reference before you report ready.",
        "da": "Kontrollér navn og reference, før du melder klar.",
    },
    "custody.error.hearing_ended": {"en": "The hearing has ended.", "da": "Retsmødet er slut."},
    "custody.error.unknown_room": {
        "en": "No such hearing room at this facility.",
        "da": "Det videorum findes ikke i denne arrest.",
    },
    "custody.error.no_room_assigned": {"en": "Assign the hearing room first.", "da": "Tildel først videorummet."},
    "custody.error.kiosk_offline": {
        "en": "The room's kiosk is not answering: check that its screen is on.",
        "da": "Rummets kiosk svarer ikke: kontrollér, at skærmen er tændt.",
    },
    "custody.error.kiosk_in_hearing": {
        "en": "The kiosk is in the hearing: a test call would interrupt it.",
        "da": "Kiosken er med i retsmødet: et prøveopkald ville afbryde det.",
    },
    "custody.error.hearing_not_open": {
        "en": "The judge has not opened the hearing yet.",
        "da": "Dommeren har ikke åbnet retsmødet endnu.",
    },
    "custody.error.form_expired": {
        "en": "The form has expired. Reload the page and try again.",
        "da": "Formularen er udløbet. Genindlæs siden, og prøv igen.",
    },
    "custody.error.other": {"en": "That did not work:", "da": "Det lykkedes ikke:"},
    "checkin.title": {"en": "Check-in", "da": "Indtjekning"},
    "checkin.none": {"en": "Not checked in yet.", "da": "Ikke tjekket ind endnu."},
    "checkin.status": {"en": "Status", "da": "Status"},
    "checkin.status.in_room": {"en": "Detainee in the room", "da": "Sigtede er i rummet"},
    "checkin.status.ready": {"en": "Ready", "da": "Klar"},
    "checkin.name_confirmed": {"en": "Name matches the booking", "da": "Navnet passer med berammelsen"},
    "checkin.reference_confirmed": {
        "en": "Reference matches the booking",
        "da": "Referencen passer med berammelsen",
    },
    "checkin.confirmed.both": {"en": "name and reference confirmed", "da": "navn og reference kontrolleret"},
    "checkin.confirmed.name": {"en": "name confirmed, reference not", "da": "navn kontrolleret, reference ikke"},
    "checkin.confirmed.reference": {
        "en": "reference confirmed, name not",
        "da": "reference kontrolleret, navn ikke",
    },
    "checkin.confirmed.none": {"en": "nothing confirmed", "da": "intet kontrolleret"},
    "checkin.by": {"en": "{officer}, at {time}", "da": "{officer}, kl. {time}"},
    "checkin.note": {"en": "Note", "da": "Bemærkning"},
    "checkin.save": {"en": "Save check-in", "da": "Gem indtjekning"},
    # issue 11, the test call: the kiosk's page and its summary on the hearing page
    "test_call.title": {"en": "Test call", "da": "Prøveopkald"},
    "test_call.intro": {
        "en": "The test call sends your picture and sound to the court's server and back, so you see and hear "
        "yourself as the court will. It takes about {seconds} seconds.",
        "da": "Prøveopkaldet sender dit billede og din lyd til rettens server og tilbage, så du ser og hører dig "
        "selv, som retten vil. Det tager omkring {seconds} sekunder.",
    },
    "test_call.start": {"en": "Start the test call", "da": "Start prøveopkaldet"},
    "test_call.again": {"en": "Test again", "da": "Prøv igen"},
    "test_call.back": {"en": "Back", "da": "Tilbage"},
    "test_call.own_camera": {"en": "Your camera", "da": "Dit kamera"},
    "test_call.looped": {"en": "As the court sees you", "da": "Som retten ser dig"},
    "test_call.level": {"en": "Your sound, as the court hears it", "da": "Din lyd, som retten hører den"},
    "test_call.idle": {"en": "Ready to test.", "da": "Klar til at prøve."},
    "test_call.connecting": {"en": "Connecting to the court's server…", "da": "Forbinder til rettens server…"},
    "test_call.looping": {
        "en": "Testing: speak normally and look at the camera.",
        "da": "Prøver: tal som normalt, og se ind i kameraet.",
    },
    "test_call.measuring": {"en": "Measuring…", "da": "Måler…"},
    "test_call.failed": {
        "en": "The test call could not be made. Tell the officer.",
        "da": "Prøveopkaldet kunne ikke gennemføres. Sig det til betjenten.",
    },
    "test_call.no_camera": {
        "en": "The camera or microphone could not be opened. Tell the officer.",
        "da": "Kameraet eller mikrofonen kunne ikke åbnes. Sig det til betjenten.",
    },
    "test_call.result": {"en": "Result", "da": "Resultat"},
    "test_call.done": {"en": "The test call is finished.", "da": "Prøveopkaldet er færdigt."},
    "test_call.returning": {
        "en": "The test call is finished. The screen returns to the waiting screen in a moment.",
        "da": "Prøveopkaldet er færdigt. Skærmen vender om lidt tilbage til ventebilledet.",
    },
    "test_call.grade.good": {"en": "Good: the connection is ready.", "da": "God: forbindelsen er klar."},
    "test_call.grade.poor": {
        "en": "Poor: the hearing can go on, but the connection is weak.",
        "da": "Svag: retsmødet kan gennemføres, men forbindelsen er svag.",
    },
    "test_call.grade.bad": {
        "en": "Bad: the connection is not good enough. Tell the officer.",
        "da": "Dårlig: forbindelsen er ikke god nok. Sig det til betjenten.",
    },
    "test_call.word.good": {"en": "good", "da": "god"},
    "test_call.word.poor": {"en": "poor", "da": "svag"},
    "test_call.word.bad": {"en": "bad", "da": "dårlig"},
    "test_call.figure.rtt_ms": {"en": "Round trip", "da": "Svartid"},
    "test_call.figure.loss_percent": {"en": "Packet loss", "da": "Pakketab"},
    "test_call.figure.jitter_ms": {"en": "Jitter", "da": "Jitter"},
    "test_call.figure.picture": {"en": "Picture received", "da": "Modtaget billede"},
    "test_call.figure.audio_dbfs": {"en": "Sound level", "da": "Lydniveau"},
    "test_call.unmeasured": {"en": "not measured", "da": "ikke målt"},
    "test_call.reasons": {"en": "Why", "da": "Hvorfor"},
    "test_call.reason.loss": {
        "en": "Packets are being lost on the way.",
        "da": "Der går datapakker tabt undervejs.",
    },
    "test_call.reason.rtt": {"en": "The connection is slow to answer.", "da": "Forbindelsen er langsom til at svare."},
    "test_call.reason.jitter": {"en": "The connection is uneven.", "da": "Forbindelsen er ujævn."},
    "test_call.reason.network_unmeasured": {
        "en": "The network could not be measured.",
        "da": "Netværket kunne ikke måles.",
    },
    "test_call.reason.no_picture": {"en": "No picture came back.", "da": "Der kom intet billede tilbage."},
    "test_call.reason.low_resolution": {"en": "The picture is not sharp enough.", "da": "Billedet er ikke skarpt nok."},
    "test_call.reason.low_frame_rate": {"en": "The picture is jerky.", "da": "Billedet hakker."},
    "test_call.reason.quiet_microphone": {"en": "The microphone is quiet.", "da": "Mikrofonen er svag."},
    "test_call.reason.silent_microphone": {
        "en": "No sound came from the microphone.",
        "da": "Der kom ingen lyd fra mikrofonen.",
    },
    "test_call.summary": {"en": "Test call of the custody room", "da": "Prøveopkald fra arrestens rum"},
    "test_call.none": {"en": "No test call has been made.", "da": "Der er ikke foretaget noget prøveopkald."},
    "test_call.at": {"en": "Made", "da": "Foretaget"},
    "test_call.endpoint": {"en": "Room", "da": "Rum"},
    "test_call.grade": {"en": "Grade", "da": "Vurdering"},
    # the detainee's kiosk (custody and booth devices): large words, one state at a time
    "kiosk.title": {"en": "Court hearing", "da": "Retsmøde"},
    "kiosk.language": {"en": "Language", "da": "Sprog"},
    "kiosk.case": {"en": "Case {case}", "da": "Sag {case}"},
    "kiosk.where": {"en": "{time} · {court}, {courtroom}", "da": "Kl. {time} · {court}, {courtroom}"},
    "kiosk.state.none": {"en": "No hearing today", "da": "Intet retsmøde i dag"},
    "kiosk.detail.none": {
        "en": "There is no hearing on this screen today.",
        "da": "Der er ikke noget retsmøde på denne skærm i dag.",
    },
    "kiosk.state.waiting": {"en": "Waiting for the court", "da": "Venter på retten"},
    "kiosk.detail.waiting": {
        "en": "The hearing starts at {time} at {court}, {courtroom}. "
        "The screen connects by itself when the court opens it.",
        "da": "Retsmødet begynder kl. {time} i {court}, {courtroom}. Skærmen forbinder selv, når retten åbner.",
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
    "kiosk.notice.poor": {
        "en": "The connection is poor: the court is told, stay where you are",
        "da": "Forbindelsen er dårlig: retten får besked, bliv hvor du er",
    },
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
# Plan B and consultation with counsel (issue 11): the link's notices at the bench.
TEXT.update(
    {
        "link.notices": {"en": "The video link", "da": "Videoforbindelsen"},
        "link.not_answering": {
            "en": "The custody room is not answering (since {time}). The court knows; the room is being called.",
            "da": "Arrestlokalet svarer ikke (siden {time}). Retten ved det; der ringes op til lokalet.",
        },
        "link.answering_again": {"en": "The custody room is answering again.", "da": "Arrestlokalet svarer igen."},
        "link.interrupted": {
            "en": "The connection to {seat} was lost at {time}, {duration} ago.",
            "da": "Forbindelsen til {seat} blev afbrudt kl. {time}, for {duration} siden.",
        },
        "link.interrupted_paused": {
            "en": "The hearing was paused automatically.",
            "da": "Retsmødet er sat på pause automatisk.",
        },
        "link.waiting_reconnect": {
            "en": "If it is back within 60 seconds it takes its seat as before; later it waits in the lobby.",
            "da": "Er den tilbage inden for 60 sekunder, får den sin plads som før; senere venter den i venteværelset.",
        },
        "link.restored": {
            "en": "{seat} is back after {duration}.",
            "da": "{seat} er tilbage efter en afbrydelse på {duration}",
        },
        "link.restored_lobby": {
            "en": "{seat} is back after {duration}, and waits in the lobby to be admitted again.",
            "da": "{seat} er tilbage efter {duration} og venter i venteværelset på at blive lukket ind igen.",
        },
        "link.resume": {"en": "Resume the hearing", "da": "Genoptag retsmødet"},
        "link.audio_only": {
            "en": "{seat}: the link carries sound only. The picture is off until the connection recovers.",
            "da": "{seat}: forbindelsen bærer kun lyd. Billedet er slået fra, til forbindelsen er god igen.",
        },
        "link.seat_not_answering": {"en": "not answering", "da": "svarer ikke"},
        "link.seat_audio_only": {"en": "sound only", "da": "kun lyd"},
        "link.seconds": {"en": "{n} s", "da": "{n} sek."},
        "link.minutes": {"en": "{m} min {n} s", "da": "{m} min. {n} sek."},
        "panel.include_interpreter": {
            "en": "Include the interpreter in the consultation",
            "da": "Tolken deltager i den fortrolige samtale",
        },
        "media.reason.audio_only": {
            "en": "Sound only: the link is too weak",
            "da": "Kun lyd: forbindelsen er for svag",
        },
    }
)

# issue 12, interp: the interpretation mode and its direction, on the judge's panel and the kiosk.
TEXT.update(
    {
        "panel.interpretation": {"en": "Interpretation", "da": "Tolkning"},
        "panel.interpretation.mode.none": {"en": "No interpretation", "da": "Ingen tolkning"},
        "panel.interpretation.mode.consecutive": {
            "en": "Consecutive: the interpreter speaks after each speaker, to everyone",
            "da": "Konsekutiv: tolken taler efter hver taler, til alle",
        },
        "panel.interpretation.mode.simultaneous": {
            "en": "Simultaneous (whispered): follows the floor",
            "da": "Simultan (hvisket): følger ordet",
        },
        "panel.interpretation.counsel": {
            "en": "Counsel also needs interpretation",
            "da": "Forsvareren har også brug for tolkning",
        },
        "panel.interpretation.no_seat": {
            "en": "Simultaneous interpretation needs an interpreter connected on a seat of their own.",
            "da": "Simultantolkning kræver en tolk, der er forbundet på sin egen plads.",
        },
        "panel.interpretation.state.none": {"en": "No interpretation", "da": "Ingen tolkning"},
        "panel.interpretation.state.everyone": {
            "en": "Consecutive interpretation — everyone hears the interpreter",
            "da": "Konsekutiv tolkning — alle hører tolken",
        },
        "panel.interpretation.state.to_party": {
            "en": "Simultaneous interpretation — now to the detainee",
            "da": "Simultantolkning — nu til sigtede",
        },
        "panel.interpretation.state.to_party_counsel": {
            "en": "Simultaneous interpretation — now to the detainee and counsel",
            "da": "Simultantolkning — nu til sigtede og forsvareren",
        },
        "panel.interpretation.state.to_party_others": {
            "en": "Simultaneous interpretation — now to those who need it",
            "da": "Simultantolkning — nu til dem, der har brug for den",
        },
        "panel.interpretation.state.to_court": {
            "en": "Simultaneous interpretation — now to the court",
            "da": "Simultantolkning — nu til retten",
        },
        "panel.interpretation.heard_by": {"en": "The interpreter is heard by: {who}", "da": "Tolken høres af: {who}"},
        "panel.interpretation.heard_by_nobody": {
            "en": "Nobody hears the interpreter now.",
            "da": "Ingen hører tolken lige nu.",
        },
        "panel.interpretation.recorder": {"en": "the recording", "da": "optagelsen"},
        # The witness role came with issue 12's foundation; a page naming one needs its words.
        "role.witness": {"en": "Witness", "da": "Vidne"},
        "seat.witness": {"en": "Witness (remote)", "da": "Vidne (fjern)"},
        "kiosk.seat.witness": {"en": "the witness", "da": "vidnet"},
        # The kiosk: the detainee is told how the interpreter is heard, in words.
        "kiosk.interpretation.everyone": {
            "en": "Interpretation: the interpreter speaks after each speaker, for everyone",
            "da": "Tolkning: tolken taler efter hver taler, for alle",
        },
        "kiosk.interpretation.to_you": {
            "en": "Interpretation: the interpreter speaks to you, over the court",
            "da": "Tolkning: tolken taler til dig, hen over retten",
        },
        "kiosk.interpretation.from_you": {
            "en": "Interpretation: you have the floor — the interpreter speaks your words to the court",
            "da": "Tolkning: du har ordet — tolken siger dine ord til retten",
        },
        "kiosk.interpretation.to_party": {
            "en": "Simultaneous interpretation — now to the detainee",
            "da": "Simultantolkning — nu til sigtede",
        },
        "kiosk.interpretation.to_court": {
            "en": "Simultaneous interpretation — now to the court",
            "da": "Simultantolkning — nu til retten",
        },
    }
)


# issue 12, pages: the judge's lobby cards, the clerk's remote parties, the register of interpreters.
TEXT.update(
    {
        "media.source.witness": {"da": "Vidne", "en": "Witness"},
        "panel.lobby.announce": {"da": "{who} venter i venteværelset.", "en": "{who} is waiting in the lobby."},
        "panel.lobby.is_waiting": {"da": "{who} venter", "en": "{who} is waiting"},
        "panel.lobby.language": {"da": "Sprog", "en": "Language"},
        "panel.lobby.picture": {"da": "Billede af {who}", "en": "Picture of {who}"},
        "panel.lobby.no_link": {
            "da": "Tilslut videoforbindelsen for at se billedet",
            "en": "Join the video link to see the picture",
        },
        "panel.lobby.no_picture": {"da": "Intet billede endnu", "en": "No picture yet"},
        "panel.lobby.no_media": {
            "da": "Billedet vises på dommerens videoforbindelse",
            "en": "The picture is shown on the judge's video link",
        },
        "panel.lobby.deny_question": {
            "da": "Afvis {who}? Forbindelsen lukkes.",
            "en": "Turn {who} away? Their connection is closed.",
        },
        "panel.lobby.deny_yes": {"da": "Ja, afvis", "en": "Yes, turn away"},
        "panel.lobby.deny_no": {"da": "Fortryd", "en": "Cancel"},
        # the clerk's remote parties (on the hearing's page)
        "remote.parties_title": {"da": "Fjerndeltagere", "en": "Remote parties"},
        "remote.help": {
            "da": "Tolke, forsvarere, anklagere og vidner, der deltager udefra med en engangskode. Dommeren lukker "
            "dem ind fra venteværelset.",
            "en": "Interpreters, defence counsel, prosecutors and witnesses who join from outside with a one-time "
            "code. The judge admits them from the lobby.",
        },
        "remote.none": {"da": "Ingen fjerndeltagere endnu.", "en": "No remote parties yet."},
        "remote.ended": {
            "da": "Retsmødet er slut: fjerndeltagerne kan ikke længere ændres.",
            "en": "The hearing has ended: its remote parties can no longer be changed.",
        },
        "remote.col.role": {"da": "Rolle", "en": "Role"},
        "remote.col.name": {"da": "Navn", "en": "Name"},
        "remote.col.language": {"da": "Sprog", "en": "Language"},
        "remote.col.contact": {"da": "Kontakt", "en": "Contact"},
        "remote.col.code": {"da": "Kode", "en": "Code"},
        "remote.col.actions": {"da": "Handlinger", "en": "Actions"},
        "remote.registered": {"da": "I tolkeregistret", "en": "On the register"},
        "remote.state.none": {"da": "Ingen kode endnu", "en": "No code yet"},
        "remote.state.live": {"da": "Gyldig fra {start} til {end}", "en": "Live from {start} until {end}"},
        "remote.state.used": {"da": "Brugt", "en": "Used"},
        "remote.state.revoked": {"da": "Tilbagekaldt", "en": "Revoked"},
        "remote.state.locked": {
            "da": "Spærret efter for mange forkerte forsøg",
            "en": "Locked after too many failed attempts",
        },
        "remote.state.expired": {"da": "Udløbet", "en": "Expired"},
        "remote.issue": {"da": "Udsted kode", "en": "Issue code"},
        "remote.reissue": {"da": "Udsted ny kode", "en": "Re-issue code"},
        "remote.reissue_help": {
            "da": "En ny kode gør den tidligere ugyldig med det samme.",
            "en": "A new code stops the earlier one working at once.",
        },
        "remote.revoke": {"da": "Tilbagekald koden …", "en": "Revoke the code …"},
        "remote.revoke.question": {
            "da": "Tilbagekald koden til {name}? Den holder op med at virke med det samme.",
            "en": "Revoke {name}'s code? It stops working at once.",
        },
        "remote.revoke.yes": {"da": "Ja, tilbagekald koden", "en": "Yes, revoke the code"},
        "remote.remove": {"da": "Fjern deltageren …", "en": "Remove the party …"},
        "remote.remove.question": {
            "da": "Fjern {name} fra retsmødet? Koden og en åben forbindelse ophører.",
            "en": "Remove {name} from the hearing? Their code and any open connection end.",
        },
        "remote.remove.yes": {"da": "Ja, fjern deltageren", "en": "Yes, remove the party"},
        "remote.ics": {"da": "Hent kalenderfilen (.ics)", "en": "Download the calendar file (.ics)"},
        "remote.ics_help": {
            "da": "Kalenderfilen indeholder ikke koden.",
            "en": "The calendar file does not contain the code.",
        },
        "remote.totp.state_on": {
            "da": "Registrerede tolke skal bruge deres godkendelsesapp (kode + TOTP).",
            "en": "Registered interpreters must use their authenticator (code + TOTP).",
        },
        "remote.totp.state_off": {
            "da": "Registrerede tolke skal ikke bruge deres godkendelsesapp: koden er nok.",
            "en": "Registered interpreters do not need their authenticator: the code is enough.",
        },
        "remote.totp.turn_on": {
            "da": "Kræv registrerede tolkes godkendelsesapp",
            "en": "Require the authenticator of registered interpreters",
        },
        "remote.totp.turn_off": {
            "da": "Kræv ikke længere godkendelsesappen",
            "en": "Stop requiring the authenticator",
        },
        "remote.add_title": {"da": "Tilføj en fjerndeltager", "en": "Add a remote party"},
        "remote.add": {"da": "Tilføj", "en": "Add"},
        "remote.back": {"da": "Tilbage til retsmødet", "en": "Back to the hearing"},
        "remote.field.role": {"da": "Rolle", "en": "Role"},
        "remote.field.name": {"da": "Navn", "en": "Name"},
        "remote.field.name_help": {
            "da": "Vælges en tolk fra registret, kan navnet stå tomt.",
            "en": "With an interpreter chosen from the register, the name may be left empty.",
        },
        "remote.field.language": {"da": "Sprog (tolke)", "en": "Language (interpreters)"},
        "remote.field.language_help": {
            "da": "Det sprog, tolken tolker; kun for tolke.",
            "en": "The language the interpreter interprets; for interpreters only.",
        },
        "remote.field.contact": {"da": "Kontakt", "en": "Contact"},
        "remote.field.contact_help": {
            "da": "E-mail eller telefon, som invitationen sendes til.",
            "en": "E-mail or telephone the invitation is sent to.",
        },
        "remote.field.registered": {
            "da": "Tolk fra registret (valgfrit)",
            "en": "Interpreter from the register (optional)",
        },
        "remote.field.registered_none": {"da": "— ingen —", "en": "— none —"},
        "remote.field.registered_help": {
            "da": "En registreret tolk kan logge ind med sin godkendelsesapp.",
            "en": "A registered interpreter can sign in with their authenticator.",
        },
        # the code, shown once
        "remote.code.title": {"da": "Engangskode", "en": "One-time code"},
        "remote.code.once": {
            "da": "Koden vises kun denne ene gang. Den gemmes ingen steder og kan ikke vises igen.",
            "en": "The code is shown this once only. It is not kept anywhere and cannot be shown again.",
        },
        "remote.code.once_help": {
            "da": "Send invitationen nu. Genindlæser du siden, er koden væk; er den gået tabt, så udsted en ny "
            "(den gamle holder da op med at virke).",
            "en": "Send the invitation now. Reloading this page will not show the code again; if it is lost, "
            "re-issue it (the old one then stops working).",
        },
        "remote.code.label": {"da": "Koden", "en": "The code"},
        "remote.code.letter": {"da": "Invitationen (dansk og engelsk)", "en": "The invitation (Danish and English)"},
        "remote.code.letter_help": {
            "da": "Klar til at sende, med adressen, koden og tidspunktet.",
            "en": "Ready to send, with the address, the code and the time.",
        },
        "remote.code.copy": {"da": "Kopiér invitationen", "en": "Copy the invitation"},
        "remote.code.copied": {"da": "Kopieret.", "en": "Copied."},
        "remote.code.gone": {
            "da": "Koden er blevet vist og er væk: den kan ikke vises igen.",
            "en": "The code has been shown and is gone: it cannot be shown again.",
        },
        "remote.code.gone_help": {
            "da": "Er den gået tabt, så udsted en ny kode fra retsmødets side; den tidligere holder da op med "
            "at virke.",
            "en": "If it was lost, re-issue the code from the hearing's page; the earlier one then stops working.",
        },
        # the register of interpreters
        "nav.interpreters": {"da": "Tolkeregister", "en": "Interpreters"},
        "remote.register.title": {"da": "Tolkeregistret", "en": "The register of interpreters"},
        "remote.register.help": {
            "da": "Tolke, retten ofte bruger. En registreret tolk kan tilknytte en godkendelsesapp, så et retsmøde "
            "kan kræve både kode og app.",
            "en": "Interpreters the court often works with. A registered interpreter can enrol an authenticator "
            "app, so that a hearing can require both the code and the app.",
        },
        "remote.register.none": {"da": "Registret er tomt.", "en": "The register is empty."},
        "remote.register.languages": {"da": "Sprog", "en": "Languages"},
        "remote.register.languages_help": {
            "da": "Adskilt med komma, fx arabisk, fransk.",
            "en": "Separated by commas, e.g. arabisk, fransk.",
        },
        "remote.register.totp": {"da": "Godkendelsesapp", "en": "Authenticator"},
        "remote.register.totp.none": {"da": "ingen bekræftet", "en": "none confirmed"},
        "remote.register.totp.confirmed": {"da": "bekræftet", "en": "confirmed"},
        "remote.register.off": {"da": "ikke længere i registret", "en": "no longer on the register"},
        "remote.register.add": {"da": "Tilføj en tolk", "en": "Add an interpreter"},
        "remote.register.back": {"da": "Tilbage til tolkeregistret", "en": "Back to the register"},
        "remote.register.totp.enrol": {"da": "Tilknyt godkendelsesapp", "en": "Enrol an authenticator"},
        "remote.register.totp.replace": {"da": "Ny godkendelsesapp …", "en": "New authenticator …"},
        "remote.register.totp.replace_question": {
            "da": "Giv {name} en ny godkendelsesapp? Den nuværende holder op med at virke med det samme.",
            "en": "Give {name} a new authenticator? The current one stops working at once.",
        },
        "remote.register.totp.replace_yes": {"da": "Ja, ny godkendelsesapp", "en": "Yes, a new authenticator"},
        "remote.register.totp.title": {"da": "Godkendelsesapp", "en": "Authenticator"},
        "remote.register.totp.help": {
            "da": "Tolken scanner QR-koden med sin godkendelsesapp og læser den første kode op; skriv den her.",
            "en": "The interpreter scans the QR code with their authenticator app and reads out the first code; "
            "type it here.",
        },
        "remote.register.totp.qr": {
            "da": "QR-kode til tolkens godkendelsesapp",
            "en": "QR code for the interpreter's authenticator app",
        },
        "remote.register.totp.code": {"da": "Første kode fra appen", "en": "First code from the app"},
        "remote.register.totp.confirm": {"da": "Bekræft", "en": "Confirm"},
        "remote.register.totp.done": {
            "da": "{name}s godkendelsesapp er bekræftet.",
            "en": "{name}'s authenticator is confirmed.",
        },
        "remote.register.totp.not_begun": {
            "da": "Ingen tilknytning er i gang. Start den fra tolkeregistret.",
            "en": "No enrolment is under way. Begin it from the register.",
        },
    }
)


def language(connection: HTTPConnection) -> str:
    chosen = connection.cookies.get(cookie_names(connection).language)
    if chosen in LANGUAGES:
        return chosen
    for part in connection.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "en"


def kiosk_language(connection: HTTPConnection) -> str:
    """A kiosk (and its test-call page) speaks Danish until someone chooses
    otherwise on its screen: the kiosk browser's own Accept-Language says
    nothing about the detainee."""
    chosen = connection.cookies.get(cookie_names(connection).language)
    return chosen if chosen in LANGUAGES else "da"


def translator(lang: str) -> Callable[[str], str]:
    def t(key: str) -> str:
        return TEXT[key][lang]

    return t


def texts(lang: str, prefixes: tuple[str, ...]) -> dict[str, str]:
    """The texts a page's script needs, in one language."""
    return {key: value[lang] for key, value in TEXT.items() if key.startswith(prefixes)}


# issue 12, gateway: the join page, the code and authenticator steps, and the
# remote party's page (remote.js draws its states from the "remote." words).
TEXT.update(
    {
        "remote.title": {"en": "Court hearing", "da": "Retsmøde"},
        "remote.language": {"en": "Language", "da": "Sprog"},
        "remote.join.title": {"en": "Join a court hearing", "da": "Deltag i et retsmøde"},
        "remote.join.intro": {
            "en": "Enter the code from the court's invitation. The invitation number is filled in when you open "
            "the link in the invitation.",
            "da": "Skriv koden fra rettens invitation. Invitationsnummeret er udfyldt, når du åbner linket i "
            "invitationen.",
        },
        "remote.join.invitation": {"en": "Invitation number", "da": "Invitationsnummer"},
        "remote.join.code": {"en": "Code (8 digits)", "da": "Kode (8 cifre)"},
        "remote.join.submit": {"en": "Continue", "da": "Fortsæt"},
        "remote.join.next": {
            "en": "Next you check your camera and microphone, and wait until the judge lets you in.",
            "da": "Derefter tjekker du dit kamera og din mikrofon og venter, til dommeren lukker dig ind.",
        },
        "remote.join.back": {
            "en": "Already used your code? Return to the hearing",
            "da": "Har du allerede brugt din kode? Gå tilbage til retsmødet",
        },
        "remote.verify.title": {"en": "Your authenticator code", "da": "Kode fra din godkendelsesapp"},
        "remote.verify.intro": {
            "en": "This hearing also asks for the 6-digit code from the authenticator app you enrolled with the court.",
            "da": "Dette retsmøde kræver også den 6-cifrede kode fra den godkendelsesapp, du har tilmeldt hos retten.",
        },
        "remote.verify.code": {"en": "Authenticator code (6 digits)", "da": "Kode fra godkendelsesappen (6 cifre)"},
        "remote.verify.restart": {
            "en": "Start again with the code from your invitation",
            "da": "Start forfra med koden fra invitationen",
        },
        "remote.error.title": {"en": "Something went wrong", "da": "Noget gik galt"},
        "remote.error.code": {"en": "Error code", "da": "Fejlkode"},
        "remote.error.start": {"en": "Back to the join page", "da": "Tilbage til siden for deltagelse"},
        "remote.error.code_rejected": {
            "en": "The code could not be used. Check the code and the time of the hearing, or ask the court "
            "for a new code.",
            "da": "Koden kunne ikke bruges. Kontrollér koden og tidspunktet for retsmødet, eller bed retten om "
            "en ny kode.",
        },
        "remote.error.session_ended": {
            "en": "Your access to the hearing has ended. Use the code in your invitation, or ask the court.",
            "da": "Din adgang til retsmødet er ophørt. Brug koden i din invitation, eller kontakt retten.",
        },
        "remote.error.csrf": {
            "en": "The form has expired. Reload the page and try again.",
            "da": "Formularen er udløbet. Genindlæs siden, og prøv igen.",
        },
        "remote.error.rate_limited": {
            "en": "Too many attempts. Wait a minute and try again.",
            "da": "For mange forsøg. Vent et minut, og prøv igen.",
        },
        "remote.error.too_large": {"en": "The request is too large.", "da": "Forespørgslen er for stor."},
        "remote.error.invalid": {
            "en": "The form could not be read. Reload the page and try again.",
            "da": "Formularen kunne ikke læses. Genindlæs siden, og prøv igen.",
        },
        # the remote party's page
        "remote.role.interpreter": {"en": "Interpreter", "da": "Tolk"},
        "remote.role.counsel": {"en": "Defence counsel", "da": "Forsvarer"},
        "remote.role.prosecutor": {"en": "Prosecutor", "da": "Anklager"},
        "remote.role.witness": {"en": "Witness", "da": "Vidne"},
        "remote.case": {"en": "Case {case}", "da": "Sag {case}"},
        "remote.where": {
            "en": "{start}–{end} · {court}, {courtroom}",
            "da": "Kl. {start}–{end} · {court}, {courtroom}",
        },
        "remote.state.check": {"en": "Check your camera and microphone", "da": "Tjek dit kamera og din mikrofon"},
        "remote.detail.check": {
            "en": "Make sure you can be seen, and that the level moves when you speak. Then press Continue.",
            "da": "Sørg for, at du kan ses, og at niveauet bevæger sig, når du taler. Tryk derefter på Fortsæt.",
        },
        "remote.state.starting": {"en": "Starting your camera …", "da": "Starter dit kamera …"},
        "remote.detail.starting": {
            "en": "If the browser asks, allow this page to use your camera and microphone.",
            "da": "Hvis browseren spørger, så giv siden lov til at bruge dit kamera og din mikrofon.",
        },
        "remote.state.no_devices": {
            "en": "The camera or microphone could not be used",
            "da": "Kameraet eller mikrofonen kunne ikke bruges",
        },
        "remote.detail.no_devices": {
            "en": "Allow this page to use your camera and microphone in the browser's settings, close other "
            "programs that use them, and try again.",
            "da": "Giv siden lov til at bruge kamera og mikrofon i browserens indstillinger, luk andre "
            "programmer, der bruger dem, og prøv igen.",
        },
        "remote.state.connecting": {"en": "Connecting to the court …", "da": "Forbinder til retten …"},
        "remote.detail.connecting": {"en": "One moment.", "da": "Et øjeblik."},
        "remote.state.not_open": {"en": "The hearing has not begun yet", "da": "Retsmødet er ikke begyndt endnu"},
        "remote.detail.not_open": {
            "en": "Stay on this page: it connects by itself when the court opens the hearing.",
            "da": "Bliv på siden: den forbinder selv, når retten åbner retsmødet.",
        },
        "remote.state.lobby": {"en": "Waiting to be let in", "da": "Venter på at blive lukket ind"},
        "remote.detail.lobby": {
            "en": "The court has been told you are waiting; the judge lets you in.",
            "da": "Retten har fået besked om, at du venter; dommeren lukker dig ind.",
        },
        "remote.state.admitted": {
            "en": "You are in; the court will begin shortly",
            "da": "Du er lukket ind; retten begynder om lidt",
        },
        "remote.detail.admitted": {"en": "The court can see and hear you.", "da": "Retten kan se og høre dig."},
        "remote.state.in_session": {"en": "The hearing is in session", "da": "Retsmødet er i gang"},
        "remote.detail.in_session": {"en": "The court can see and hear you.", "da": "Retten kan se og høre dig."},
        "remote.state.paused": {"en": "The hearing is paused", "da": "Retsmødet holder pause"},
        "remote.detail.paused": {
            "en": "Stay on this page; the hearing continues here.",
            "da": "Bliv på siden; retsmødet fortsætter her.",
        },
        "remote.state.consulting": {"en": "Private consultation", "da": "Fortrolig samtale"},
        "remote.detail.consulting": {
            "en": "You are in a private consultation with your client; the court cannot hear you.",
            "da": "Du er i en fortrolig samtale med din klient; retten kan ikke høre jer.",
        },
        "remote.state.consultation": {
            "en": "The hearing is paused for a private consultation",
            "da": "Retsmødet holder pause for en fortrolig samtale",
        },
        "remote.detail.consultation": {
            "en": "Defence counsel and the detainee are talking in private; you cannot hear them.",
            "da": "Forsvareren og sigtede taler fortroligt; du kan ikke høre dem.",
        },
        "remote.state.reconnecting": {
            "en": "The connection was lost; reconnecting …",
            "da": "Forbindelsen blev afbrudt; forbinder igen …",
        },
        "remote.detail.reconnecting": {
            "en": "Stay on this page. You keep your place in the hearing.",
            "da": "Bliv på siden. Du beholder din plads i retsmødet.",
        },
        "remote.state.ended": {"en": "The hearing has ended", "da": "Retsmødet er slut"},
        "remote.detail.ended": {"en": "Thank you. You can close this page.", "da": "Tak. Du kan lukke siden."},
        "remote.state.denied": {"en": "The judge did not let you in", "da": "Dommeren lukkede dig ikke ind"},
        "remote.detail.denied": {
            "en": "If you think this is a mistake, contact the court.",
            "da": "Kontakt retten, hvis du mener, at det er en fejl.",
        },
        "remote.state.replaced": {
            "en": "The hearing is open in another window",
            "da": "Retsmødet er åbent i et andet vindue",
        },
        "remote.detail.replaced": {
            "en": "Only one window can take part. Close this one.",
            "da": "Kun ét vindue kan deltage. Luk dette.",
        },
        "remote.state.session_ended": {"en": "Your access has ended", "da": "Din adgang er ophørt"},
        "remote.detail.session_ended": {
            "en": "Your access to the hearing has ended. Use the code in your invitation, or ask the court.",
            "da": "Din adgang til retsmødet er ophørt. Brug koden i din invitation, eller kontakt retten.",
        },
        "remote.check.preview": {"en": "Your camera", "da": "Dit kamera"},
        "remote.check.level": {"en": "Microphone level", "da": "Mikrofonniveau"},
        "remote.check.heard": {"en": "The microphone hears you.", "da": "Mikrofonen kan høre dig."},
        "remote.check.silent": {
            "en": "Say something: the level should move.",
            "da": "Sig noget: niveauet skal bevæge sig.",
        },
        "remote.check.camera": {"en": "Camera", "da": "Kamera"},
        "remote.check.microphone": {"en": "Microphone", "da": "Mikrofon"},
        "remote.check.continue": {"en": "Continue", "da": "Fortsæt"},
        "remote.check.retry": {"en": "Try again", "da": "Prøv igen"},
        "remote.main": {"en": "The hearing", "da": "Retsmødet"},
        "remote.main_of": {"en": "Now shown: {who}", "da": "Vises nu: {who}"},
        "remote.detainee": {"en": "The detainee", "da": "Sigtede"},
        "remote.self": {"en": "You", "da": "Dig"},
        "remote.no_picture": {"en": "No picture right now", "da": "Intet billede lige nu"},
        "remote.no_detainee_picture": {
            "en": "No picture of the detainee right now",
            "da": "Intet billede af sigtede lige nu",
        },
        "remote.reason.lobby": {
            "en": "You see the hearing once the judge lets you in",
            "da": "Du ser retsmødet, når dommeren har lukket dig ind",
        },
        "remote.reason.source_lobby": {
            "en": "Not let into the hearing yet",
            "da": "Endnu ikke lukket ind i retsmødet",
        },
        "remote.reason.consultation": {
            "en": "Private consultation: not shown to you",
            "da": "Fortrolig samtale: vises ikke for dig",
        },
        "remote.reason.screened": {
            "en": "The judge hides this picture from you",
            "da": "Dommeren skjuler dette billede for dig",
        },
        "remote.reason.audio_only": {
            "en": "Sound only: the link is too weak",
            "da": "Kun lyd: forbindelsen er for svag",
        },
        "remote.seat.judge": {"en": "the judge", "da": "dommeren"},
        "remote.seat.courtroom": {"en": "the courtroom", "da": "retssalen"},
        "remote.seat.custody": {"en": "the detainee", "da": "sigtede"},
        "remote.seat.booth": {"en": "the consultation booth", "da": "samtalerummet"},
        "remote.seat.interpreter": {"en": "the interpreter", "da": "tolken"},
        "remote.seat.counsel": {"en": "defence counsel", "da": "forsvareren"},
        "remote.seat.prosecutor": {"en": "the prosecutor", "da": "anklageren"},
        "remote.seat.witness": {"en": "the witness", "da": "vidnet"},
        "remote.seat.observer": {"en": "an observer", "da": "en tilhører"},
        "remote.seat.recorder": {"en": "the recording", "da": "optagelsen"},
        "remote.mute": {"en": "Mute myself", "da": "Slå min mikrofon fra"},
        "remote.unmute": {"en": "Turn my microphone on", "da": "Slå min mikrofon til"},
        "remote.muted_self": {"en": "Your microphone is off", "da": "Din mikrofon er slået fra"},
        "remote.mic_on": {"en": "Your microphone is on", "da": "Din mikrofon er slået til"},
        "remote.clarify": {"en": "Ask for clarification", "da": "Bed om afklaring"},
        "remote.clarify_withdraw": {"en": "Withdraw the request", "da": "Træk anmodningen tilbage"},
        "remote.clarify_queued": {
            "en": "The judge has your request for clarification, ahead of others.",
            "da": "Dommeren har din anmodning om afklaring, foran de andre.",
        },
        "remote.ask": {"en": "Ask to speak", "da": "Bed om ordet"},
        "remote.withdraw": {"en": "Withdraw", "da": "Træk tilbage"},
        "remote.queued": {
            "en": "You have asked to speak. The judge gives you the word.",
            "da": "Du har bedt om ordet. Dommeren giver dig ordet.",
        },
        "remote.floor": {"en": "You have the floor", "da": "Du har ordet"},
        "remote.notices": {"en": "Notices", "da": "Meddelelser"},
        "remote.notice.recording": {"en": "● Recording", "da": "● Optager"},
        "remote.notice.not_recorded": {
            "en": "Not recorded: private consultation",
            "da": "Optages ikke: fortrolig samtale",
        },
        "remote.notice.muted": {"en": "The judge has muted your sound", "da": "Dommeren har slået din lyd fra"},
        "remote.notice.poor": {
            "en": "Your connection is poor: the picture may freeze",
            "da": "Din forbindelse er dårlig: billedet kan fryse",
        },
        "remote.notice.audio_only": {
            "en": "Sound only: the connection is too weak for pictures",
            "da": "Kun lyd: forbindelsen er for svag til billeder",
        },
        "remote.notice.hidden_audio": {"en": "Your sound is hidden from: {who}", "da": "Din lyd er skjult for: {who}"},
        "remote.notice.hidden_video": {
            "en": "Your picture is hidden from: {who}",
            "da": "Dit billede er skjult for: {who}",
        },
        "remote.interp.title": {"en": "Interpretation", "da": "Tolkning"},
        "remote.interp.none": {"en": "No interpretation", "da": "Ingen tolkning"},
        "remote.interp.consecutive": {
            "en": "Consecutive: the interpreter speaks after each speaker, to everyone",
            "da": "Konsekutiv: tolken taler efter hver taler, til alle",
        },
        "remote.interp.simultaneous.to_party": {
            "en": "Simultaneous (whispered), to {who}",
            "da": "Simultan (hvisketolkning), til {who}",
        },
        "remote.interp.simultaneous.to_court": {
            "en": "Simultaneous (whispered), to the court: {who} has the floor",
            "da": "Simultan (hvisketolkning), til retten: {who} har ordet",
        },
        "remote.interp.simultaneous": {"en": "Simultaneous (whispered)", "da": "Simultan (hvisketolkning)"},
        "remote.interp.heard_by": {"en": "Who hears you now: {who}", "da": "Hvem hører dig nu: {who}"},
        "remote.interp.heard_by_nobody": {"en": "Who hears you now: no one", "da": "Hvem hører dig nu: ingen"},
        "remote.interp.and": {"en": " and ", "da": " og "},
    }
)


# issue 13, cameras: the judge's camera control on the hearing page (static/cameras.js
# draws the rig's feed with these words; a camera's own label comes from the rig).
CAMERAS_TEXT = ("cameras.",)
TEXT.update(
    {
        "cameras.title": {"da": "Retssalens kameraer", "en": "Courtroom cameras"},
        "cameras.offline": {
            "da": "Retssalens kameraer er ikke forbundet",
            "en": "The courtroom cameras are not connected",
        },
        "cameras.program": {"da": "Det, der sendes", "en": "What is sent"},
        "cameras.program_image": {"da": "Billedet, der sendes nu", "en": "The picture sent now"},
        "cameras.no_picture": {"da": "Intet billede endnu", "en": "No picture yet"},
        "cameras.showing": {"da": "Viser: {what} — {why}", "en": "Showing: {what} — {why}"},
        "cameras.nothing": {"da": "intet kamera", "en": "no camera"},
        "cameras.reason.override": {"da": "fastholdt af dommeren", "en": "pinned by the judge"},
        "cameras.reason.floor": {"da": "følger ordet", "en": "follows the floor"},
        "cameras.reason.voice": {"da": "følger talerens stemme", "en": "follows the speaker's voice"},
        "cameras.reason.overview": {"da": "ingen eller flere taler", "en": "nobody or several speak"},
        "cameras.reason.hold": {"da": "bliver et øjeblik på billedet", "en": "stays on the picture a moment"},
        "cameras.reason.fallback": {"da": "et kamera svigtede", "en": "a camera failed"},
        "cameras.pinned": {"da": "Fastholdt af dommeren: {what}", "en": "Pinned by the judge: {what}"},
        "cameras.automatic": {"da": "Automatisk skift", "en": "Automatic switching"},
        "cameras.cameras": {"da": "Kameraer", "en": "Cameras"},
        "cameras.pin": {"da": "Vis {camera}", "en": "Show {camera}"},
        "cameras.state.live": {"da": "Kører", "en": "Live"},
        "cameras.state.starting": {"da": "Starter", "en": "Starting"},
        "cameras.state.unavailable": {
            "da": "Utilgængeligt — riggen prøver igen",
            "en": "Unavailable — the rig is retrying",
        },
        "cameras.unavailable": {
            "da": "Kamera {camera} er utilgængeligt. Riggen prøver igen.",
            "en": "Camera {camera} is unavailable. The rig is retrying.",
        },
        "cameras.level": {"da": "Mikrofon: {camera}", "en": "Microphone: {camera}"},
        "cameras.level.value": {"da": "{db} dBFS", "en": "{db} dBFS"},
        "cameras.level.silent": {"da": "stille", "en": "silent"},
        "cameras.layouts": {"da": "Opstilling", "en": "Layout"},
        "cameras.layout.single": {"da": "Ét kamera", "en": "One camera"},
        "cameras.layout.speaker_strip": {"da": "Taler og stribe", "en": "Speaker and strip"},
        "cameras.layout.grid": {"da": "2×2", "en": "2×2"},
        # The layout inside a sentence ("Showing: Witness, speaker and strip — ...").
        "cameras.shape.single": {"da": "ét kamera", "en": "one camera"},
        "cameras.shape.speaker_strip": {"da": "taler og stribe", "en": "speaker and strip"},
        "cameras.shape.grid": {"da": "alle fire (2×2)", "en": "all four (2×2)"},
        "cameras.release": {"da": "Frigiv — automatisk skift", "en": "Release — automatic switching"},
        "cameras.readonly": {
            "da": "Dommeren vælger kameraet; du ser det samme.",
            "en": "The judge chooses the camera; you see the same.",
        },
    }
)

# issue 14: the hearing's recording on its page (static/recording.js says the state with these).
RECORDING_TEXT = ("recording.",)
TEXT.update(
    {
        "recording.title": {"en": "Recording", "da": "Optagelse"},
        "recording.state.off": {"en": "Not recording.", "da": "Optager ikke."},
        "recording.state.recording": {
            "en": "Recording: every segment is encrypted before it is written.",
            "da": "Optager: hvert afsnit krypteres, før det skrives.",
        },
        "recording.state.paused": {
            "en": "Recording paused by the judge.",
            "da": "Optagelsen er sat på pause af dommeren.",
        },
        "recording.state.failing": {
            "en": "Not recording: the recorder failed and is starting a new segment.",
            "da": "Optager ikke: optageren fejlede og starter et nyt afsnit.",
        },
        "recording.state.consultation": {
            "en": "Not recording: a private consultation is never recorded.",
            "da": "Optager ikke: en fortrolig samtale optages aldrig.",
        },
        "recording.start": {"en": "Start recording", "da": "Start optagelse"},
        "recording.pause": {"en": "Pause recording", "da": "Sæt optagelsen på pause"},
        "recording.resume": {"en": "Resume recording", "da": "Genoptag optagelsen"},
        "recording.why_not.off": {"en": "The hearing is not being recorded.", "da": "Retsmødet optages ikke."},
        "recording.why_not.recording": {"en": "The recording is running.", "da": "Optagelsen kører."},
        "recording.why_not.paused": {"en": "The recording is paused.", "da": "Optagelsen er sat på pause."},
        "recording.why_not.consultation": {
            "en": "It resumes by itself when the consultation ends.",
            "da": "Den fortsætter af sig selv, når samtalen slutter.",
        },
        "recording.alert": {
            "en": "The recording failed ({reason}). It goes on in a new segment.",
            "da": "Optagelsen fejlede ({reason}). Den fortsætter i et nyt afsnit.",
        },
        "recording.sealed": {"en": "Sealed recordings", "da": "Forseglede optagelser"},
        "recording.item": {
            "en": "Recording {id}: {seconds} s in {segments} segments",
            "da": "Optagelse {id}: {seconds} s i {segments} afsnit",
        },
        "recording.interrupted": {
            "en": "cut short when the server stopped; sealed with what was written",
            "da": "afbrudt, da serveren stoppede; forseglet med det skrevne",
        },
        "recording.download": {"en": "Download (MP4)", "da": "Hent (MP4)"},
    }
)

# issue 14, timeline: the hearing's record for the case file (hearing/web/record.py);
# the events' sentences come from hearing/audit/sentences.py.
TEXT.update(
    {
        "record.title": {"da": "Retsbog: retsmødets forløb", "en": "The hearing's record"},
        "record.case_file": {"da": "Retsbog", "en": "Case file"},
        "record.link": {"da": "Retsmødets forløb", "en": "The hearing's record"},
        "record.of": {"da": "Retsmøde {id}", "en": "Hearing {id}"},
        "record.help": {
            "da": "Bygget af revisionsloggen. Når du åbner siden, registreres det, at du har læst loggen. "
            "Tidspunkter er rettens lokale tid ({zone}).",
            "en": "Built from the audit log. Opening this page records that you read the log. "
            "Times are the court's local time ({zone}).",
        },
        "record.json": {"da": "Forløbet som JSON", "en": "The record as JSON"},
        "record.pdf": {"da": "Forløbet som PDF (PDF/A)", "en": "The record as PDF (PDF/A)"},
        "record.file": {"da": "retsbog", "en": "record"},
        "record.print": {
            "da": "Læg PDF'en i sagen, eller udskriv siden fra browseren: de er det samme dokument.",
            "en": "Put the PDF in the case file, or print this page from the browser: they are one document.",
        },
        "record.section.lifecycle": {"da": "Retsmødet", "en": "The hearing"},
        "record.section.admission": {"da": "Adgang og forbindelser", "en": "Admissions and connections"},
        "record.section.floor": {"da": "Ordet", "en": "The floor"},
        "record.section.mutes": {"da": "Lyd og billede slået fra", "en": "Mutes and screening"},
        "record.section.consultation": {"da": "Fortrolige samtaler", "en": "Private consultations"},
        "record.section.interruption": {"da": "Afbrudte forbindelser", "en": "Interruptions"},
        "record.section.interpretation": {"da": "Tolkning", "en": "Interpretation"},
        "record.section.recording": {"da": "Optagelse", "en": "Recording"},
        "record.course": {"da": "Hele forløbet", "en": "The whole course of the hearing"},
        "record.periods": {"da": "Perioder", "en": "Periods"},
        "record.events": {"da": "Hændelser", "en": "Events"},
        "record.what": {"da": "Hvad", "en": "What"},
        "record.from": {"da": "Fra", "en": "From"},
        "record.until": {"da": "Til", "en": "Until"},
        "record.duration": {"da": "Varighed", "en": "Duration"},
        "record.none": {"da": "Intet.", "en": "None."},
        "record.empty": {"da": "Ingen hændelser.", "en": "No events."},
        "record.ongoing": {"da": "stadig i gang", "en": "still going on"},
        "record.seconds": {"da": "{s} sek.", "en": "{s} s"},
        "record.minutes": {"da": "{m} min. {s} sek.", "en": "{m} min {s} s"},
        "record.everyone": {"da": "alle undtagen dommeren", "en": "everyone but the judge"},
        "record.first_in_queue": {"da": "den første i køen", "en": "the first in the queue"},
        "record.muted": {"da": "Lyden slået fra for {seat}", "en": "{seat} muted"},
        "record.hidden": {
            "da": "{medium} fra {source} skjult for {receiver}",
            "en": "{medium} of {source} hidden from {receiver}",
        },
        "record.members": {"da": "Deltagere: {members}", "en": "Members: {members}"},
        "record.lost": {"da": "Forbindelsen til {seat} afbrudt", "en": "The connection to {seat} lost"},
        "record.measured": {"da": "(målt: {seconds} sek.)", "en": "(measured: {seconds} s)"},
        "record.recording": {"da": "Optagelse #{id}", "en": "Recording #{id}"},
        "record.sealed": {
            "da": "forseglet, {segments} afsnit, {seconds} sek. optaget",
            "en": "sealed, {segments} segments, {seconds} s recorded",
        },
        "record.interrupted": {
            "da": "(efter at serveren stoppede: det skrevne er bevaret)",
            "en": "(after the server stopped: what was written survived)",
        },
        "record.paused": {
            "da": "Optagelse #{id} på pause ({reason}) ved {at} sek.",
            "en": "Recording #{id} paused ({reason}) at {at} s",
        },
    }
)
