"""Warehouse tables. One long fact shape for every source; firm rows apart.

Statuts (the `statut` column, documented in the README):
- ok       the value is published as is;
- secret   statistical secret (producer's mark, or our rules on firm data): value NULL;
- partiel  an aggregate over part of its communes (some not covered by the file, or secret);
- absent   no loaded file provides the value (only produced by the read side).
"""

NAF_LEVELS = ["sous_classe", "a88", "a38", "a17", "section", "a10", "a5", "total"]
TERRITORY_LEVELS = ["commune", "epci", "epci_partie", "ti", "departement", "region", "france"]

DDL = """
CREATE TABLE IF NOT EXISTS meta (cle VARCHAR PRIMARY KEY, valeur VARCHAR);

CREATE TABLE IF NOT EXISTS sources (
    source_id INTEGER PRIMARY KEY,
    kind VARCHAR NOT NULL,          -- base_comparateur, urssaf, flores, sirene, chambre, reference, ...
    libelle VARCHAR NOT NULL,       -- French label shown under charts
    fichier VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    millesime VARCHAR,
    annees VARCHAR,                 -- years covered, e.g. '2015-2024'
    producteur VARCHAR,
    licence VARCHAR,
    couverture VARCHAR,             -- départements covered
    demo BOOLEAN NOT NULL DEFAULT false,
    lignes_lues BIGINT,
    lignes_gardees BIGINT,
    lignes_rejetees BIGINT,
    charge_le TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS problemes (
    source_id INTEGER, fichier VARCHAR, ligne BIGINT, colonne VARCHAR, message VARCHAR, grave BOOLEAN
);

CREATE TABLE IF NOT EXISTS facts (
    source_id INTEGER NOT NULL,
    territoire_code VARCHAR NOT NULL,
    niveau VARCHAR NOT NULL,        -- commune, epci, departement, region, france
    annee INTEGER NOT NULL,
    mesure VARCHAR NOT NULL,        -- population, etablissements, effectifs_salaries, ...
    naf_code VARCHAR NOT NULL,      -- '_T' for all activities
    naf_niveau VARCHAR NOT NULL,    -- sous_classe, a88, a38, a17, section, a10, a5, total
    valeur DOUBLE,                  -- NULL when statut is not ok
    statut VARCHAR NOT NULL
);

-- Firm-level rows of chamber files: read only by the mart build; never published.
CREATE TABLE IF NOT EXISTS firmes (
    source_id INTEGER NOT NULL,
    siret VARCHAR NOT NULL,
    siren VARCHAR NOT NULL,
    raison_sociale VARCHAR,
    naf_code VARCHAR NOT NULL,
    commune VARCHAR NOT NULL,
    tranche_effectif VARCHAR,
    annee INTEGER NOT NULL,
    ca_eur DOUBLE
);

-- Every firm row of the chamber files loaded, whatever the perimeter (all communes of the reference): the
-- statistical secret is decided on the file, not on the warehouse's territory (etl/secret.py). Never published.
CREATE TABLE IF NOT EXISTS firmes_fichier (
    source_id INTEGER NOT NULL,
    siret VARCHAR NOT NULL,
    siren VARCHAR NOT NULL,
    naf_code VARCHAR NOT NULL,
    commune VARCHAR NOT NULL,
    annee INTEGER NOT NULL,
    ca_eur DOUBLE
);

-- Communes a source covers (all communes of the départements present in the file).
CREATE TABLE IF NOT EXISTS source_couverture (source_id INTEGER, commune VARCHAR);

-- >>> NAF 2025: nomenclature of the activity codes (etl/nomenclature.py) ---------------------------
-- NAF2008 (NAF rév. 2) or NAF2025, the same for every row of a file (a file mixing both is refused);
-- NULL for sources without activity codes (populations, areas) and rows loaded before this column.
-- Added with ALTER so that a warehouse built before gets the column at its next load.
ALTER TABLE facts ADD COLUMN IF NOT EXISTS nomenclature VARCHAR;
ALTER TABLE firmes ADD COLUMN IF NOT EXISTS nomenclature VARCHAR;
-- One row per source with activity codes: read by the read side (breaks in series, Sources page).
CREATE TABLE IF NOT EXISTS source_nomenclature (source_id INTEGER, nomenclature VARCHAR);
-- <<< NAF 2025 ---------------------------------------------------------------------------------------
"""
