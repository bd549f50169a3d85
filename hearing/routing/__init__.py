"""Who hears and sees whom: the pure routing policy and the seats it routes.

Imports neither Starlette, aiortc nor SQLAlchemy (tests/test_code_quality.py
checks): the floor, the media room and the live hearing all speak this
vocabulary, and none of them owns it.
"""
