-- The vehicles a customer brought in, for businesses with a `vehicles` catalogue: a returning
-- caller is asked about the one on file. Keep in step with
-- migrations/postgres/0004_customer_vehicles.sql. `label` ("2019 Honda Civic") is how the
-- vehicle reads; a customer has each once.
CREATE TABLE customer_vehicles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    year        INTEGER,
    make        TEXT NOT NULL,
    model       TEXT,
    label       TEXT NOT NULL,
    UNIQUE (customer_id, label)
);
