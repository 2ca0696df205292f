-- A transaction id alone does not identify a transaction: Synapse on SQLite numbers transactions
-- from the highest one it still holds, and deletes those that were delivered, so after a restart
-- it hands out ids it used before. A repeat is the same id with the same content (its digest);
-- the same id with other content is a new transaction, whose events must not be dropped.
ALTER TABLE appservice_transactions ADD COLUMN digest bytea;
