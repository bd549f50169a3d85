"""The custody side: the officer's console and check-in, the detainee's
kiosk, endpoint presence, the pre-hearing test call, and consultation with
counsel. Pure rules here apart from the service modules (docs/architecture.md)."""
