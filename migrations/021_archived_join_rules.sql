-- The join rules an archive closed (set to `invite`, so nobody rejoins an archived public or
-- restricted room); a reopen puts them back and clears this. Null: nothing to put back.
ALTER TABLE rooms ADD COLUMN archived_join_rules jsonb;
