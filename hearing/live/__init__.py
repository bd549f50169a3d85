"""A hearing in progress: its one owner in this process.

`LiveHearing` holds everything a running hearing is made of between two
database commits: the media room, the floor it last followed, the lifecycle
state, the recording state and the interpretation mode, who is connected at
each seat, and every channel to the seats and the panels. It is the only
place the media routing's input (`MediaState`) is composed. `LiveHearings`
is the process's registry of them. Web handlers drive a live hearing after
each commit; they never reach one another. `SocketWatch` (watch.py) keeps
the process's open sockets by identity and closes those whose identity no
longer stands; pacing.py paces a seat's requests and counts its repeated
refusals.
"""
