-- Creates one role and database per component. The official postgres image runs this once, when
-- the data volume is empty (later edits here do not touch an existing cluster).
-- psql's \getenv (PostgreSQL 15+) reads the passwords from this container's environment, so no
-- secret is written in this file; an unset variable leaves :'...' unexpanded and the script fails.
\set ON_ERROR_STOP on
\getenv orchestrator_password ORCHESTRATOR_DB_PASSWORD
\getenv temporal_password TEMPORAL_DB_PASSWORD
\getenv synapse_password SYNAPSE_DB_PASSWORD

-- matrix-orchestrator (worker and API); the worker applies migrations/ at start.
CREATE ROLE orchestrator LOGIN PASSWORD :'orchestrator_password';
CREATE DATABASE orchestrator OWNER orchestrator;

-- Temporal: persistence and visibility. temporalio/auto-setup creates the schemas (SKIP_DB_CREATE).
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
-- The visibility schema needs btree_gin; create it as superuser rather than relying on it being
-- a trusted extension for the database owner.
\connect temporal_visibility
CREATE EXTENSION IF NOT EXISTS btree_gin;
\connect postgres

-- Synapse refuses to start on a database whose collation and ctype are not C, and they can only
-- differ from template1's when cloning template0.
CREATE ROLE synapse LOGIN PASSWORD :'synapse_password';
CREATE DATABASE synapse OWNER synapse ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
