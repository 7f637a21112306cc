-- A claimed job carries the provider it runs on (the one it named, or the default one the
-- submit chose), so that its attempt's lines in the log can say which.
alter type reeld.claimed_job add attribute provider text;
