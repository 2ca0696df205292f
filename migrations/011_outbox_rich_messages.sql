-- Rich messages through the outbox (decision 0044): a send's sanitized HTML, the event it replies
-- to and the message it edits, as {html?, replyTo?, edits?} (NULL for plain text). Kept while the
-- send may still have to be made (the retry path needs it), cleared with the body once settled.
ALTER TABLE message_outbox ADD COLUMN rich jsonb;
