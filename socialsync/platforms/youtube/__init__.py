"""YouTube (Google OAuth, Data API v3, Analytics API v2, resumable upload, WebSub push).

Everything that knows YouTube lives here; see docs/youtube.md for the decisions.
"""
