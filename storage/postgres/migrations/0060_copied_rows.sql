-- Rows copied from another store (as storage/migrations/0060_copied_rows.sql).
CREATE TABLE copied_rows (
    source TEXT NOT NULL,
    tbl    TEXT NOT NULL,
    old_id BIGINT NOT NULL,
    new_id BIGINT NOT NULL,
    PRIMARY KEY (source, tbl, old_id)
);
