-- How long a visit occupies its place, for businesses whose services have their own lengths
-- (config/business.yaml `services`). NULL: a visit of the business's own length, booked before
-- lengths existed or by a business without services; it is counted at its start only, as
-- before. Keep in step with migrations/postgres/0005_visit_minutes.sql.
ALTER TABLE appointments ADD COLUMN minutes INTEGER;
