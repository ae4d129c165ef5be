"""Everything that talks to the Hub: repo naming (`naming`), the local dataset layout that loads like
a Hub repo (`dataset_folder`), push/pull with revisions, tags and retries (`publish`)."""
