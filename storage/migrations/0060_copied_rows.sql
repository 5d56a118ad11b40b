-- copied_rows maps the rows copied from another store (trolyso migrate
-- sqlite-to-postgres) to their ids here, so that copying again adds only
-- what is new. source identifies the other store (a digest of its
-- user-key secret), tbl the table.
CREATE TABLE copied_rows (
    source TEXT NOT NULL,
    tbl    TEXT NOT NULL,
    old_id INTEGER NOT NULL,
    new_id INTEGER NOT NULL,
    PRIMARY KEY (source, tbl, old_id)
);
