-- Language-model usage per day (the operator's local date, YYYY-MM-DD):
-- tokens spent and how answer-band replies were produced.
CREATE TABLE llm_usage (
    day               TEXT PRIMARY KEY,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    calls             INTEGER NOT NULL DEFAULT 0, -- chat requests sent
    composed          INTEGER NOT NULL DEFAULT 0, -- composed answer sent
    fallback          INTEGER NOT NULL DEFAULT 0, -- base answer sent instead
    refused           INTEGER NOT NULL DEFAULT 0, -- injection attempt refused
    transcriptions    INTEGER NOT NULL DEFAULT 0, -- voice messages transcribed
    audio_seconds     INTEGER NOT NULL DEFAULT 0
);
