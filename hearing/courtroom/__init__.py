"""The courtroom's multi-camera rig (issue 13): its sources, the switcher
that follows the voices and the floor, the compositor, and the rig agent.
Runs as its own process, without the server's web code; pure decisions
(the switcher) apart from I/O (sources, the agent).
"""
