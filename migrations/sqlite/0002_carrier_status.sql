-- What the phone carrier (Twilio) reported when the call ended: its final status and the
-- billed duration. Kept apart from the engine's outcome, which says what the conversation did.
ALTER TABLE calls ADD COLUMN carrier_status TEXT;
ALTER TABLE calls ADD COLUMN duration_seconds INTEGER;
