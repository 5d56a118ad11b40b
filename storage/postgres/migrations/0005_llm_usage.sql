-- Language-model usage per day (as storage/migrations/0005_llm_usage.sql).
CREATE TABLE llm_usage (
    day               TEXT PRIMARY KEY,
    prompt_tokens     BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    calls             BIGINT NOT NULL DEFAULT 0,
    composed          BIGINT NOT NULL DEFAULT 0,
    fallback          BIGINT NOT NULL DEFAULT 0,
    refused           BIGINT NOT NULL DEFAULT 0,
    transcriptions    BIGINT NOT NULL DEFAULT 0,
    audio_seconds     BIGINT NOT NULL DEFAULT 0
);
