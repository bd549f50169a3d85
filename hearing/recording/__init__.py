"""The hearing's recording (issue 14): encrypted before it touches the disk,
in self-contained segments so a crash loses at most the one in progress,
sealed with a manifest whose hash the audit log keeps, verifiable,
exportable by the judge and the auditor, and destroyed (crypto-shredded)
when its retention ends. The recorder is a receiver routed by the policy
like any seat: a consultation never reaches it.
"""
