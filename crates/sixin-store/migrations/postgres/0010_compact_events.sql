-- The twin of SQLite's 0010, which stores events in their primary key's b-tree (WITHOUT
-- ROWID). PostgreSQL keeps a table's rows in a heap beside its indexes whatever it is declared
-- as, so there is nothing to change here.
SELECT 1;
