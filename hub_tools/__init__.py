"""Everything that talks to the Hub: repo naming, push/pull, revisions, the local-folder target (filled in by the publishing issues)."""
