-- The OMOP CDM v5.4 tables the node agent's OMOP loader reads, for tests: columns, types and
-- nullability as the v5.4 specification gives them (https://ohdsi.github.io/CommonDataModel/cdm54.html),
-- with its primary keys. @schema is replaced by the fixture's schema name.
-- Clinical data tables: person, observation_period, condition_occurrence, drug_exposure,
-- measurement, observation. Results: cohort.

create table @schema.person (
  person_id                   integer     not null primary key,
  gender_concept_id           integer     not null,
  year_of_birth               integer     not null,
  month_of_birth              integer     null,
  day_of_birth                integer     null,
  birth_datetime              timestamp   null,
  race_concept_id             integer     not null,
  ethnicity_concept_id        integer     not null,
  location_id                 integer     null,
  provider_id                 integer     null,
  care_site_id                integer     null,
  person_source_value         varchar(50) null,
  gender_source_value         varchar(50) null,
  gender_source_concept_id    integer     null,
  race_source_value           varchar(50) null,
  race_source_concept_id      integer     null,
  ethnicity_source_value      varchar(50) null,
  ethnicity_source_concept_id integer     null
);

create table @schema.observation_period (
  observation_period_id         integer not null primary key,
  person_id                     integer not null,
  observation_period_start_date date    not null,
  observation_period_end_date   date    not null,
  period_type_concept_id        integer not null
);

create table @schema.condition_occurrence (
  condition_occurrence_id       integer     not null primary key,
  person_id                     integer     not null,
  condition_concept_id          integer     not null,
  condition_start_date          date        not null,
  condition_start_datetime      timestamp   null,
  condition_end_date            date        null,
  condition_end_datetime        timestamp   null,
  condition_type_concept_id     integer     not null,
  condition_status_concept_id   integer     null,
  stop_reason                   varchar(20) null,
  provider_id                   integer     null,
  visit_occurrence_id           integer     null,
  visit_detail_id               integer     null,
  condition_source_value        varchar(50) null,
  condition_source_concept_id   integer     null,
  condition_status_source_value varchar(50) null
);

create table @schema.drug_exposure (
  drug_exposure_id             integer     not null primary key,
  person_id                    integer     not null,
  drug_concept_id              integer     not null,
  drug_exposure_start_date     date        not null,
  drug_exposure_start_datetime timestamp   null,
  drug_exposure_end_date       date        not null,
  drug_exposure_end_datetime   timestamp   null,
  verbatim_end_date            date        null,
  drug_type_concept_id         integer     not null,
  stop_reason                  varchar(20) null,
  refills                      integer     null,
  quantity                     numeric     null,
  days_supply                  integer     null,
  sig                          text        null,
  route_concept_id             integer     null,
  lot_number                   varchar(50) null,
  provider_id                  integer     null,
  visit_occurrence_id          integer     null,
  visit_detail_id              integer     null,
  drug_source_value            varchar(50) null,
  drug_source_concept_id       integer     null,
  route_source_value           varchar(50) null,
  dose_unit_source_value       varchar(50) null
);

create table @schema.measurement (
  measurement_id                integer     not null primary key,
  person_id                     integer     not null,
  measurement_concept_id        integer     not null,
  measurement_date              date        not null,
  measurement_datetime          timestamp   null,
  measurement_time              varchar(10) null,
  measurement_type_concept_id   integer     not null,
  operator_concept_id           integer     null,
  value_as_number               numeric     null,
  value_as_concept_id           integer     null,
  unit_concept_id               integer     null,
  range_low                     numeric     null,
  range_high                    numeric     null,
  provider_id                   integer     null,
  visit_occurrence_id           integer     null,
  visit_detail_id               integer     null,
  measurement_source_value      varchar(50) null,
  measurement_source_concept_id integer     null,
  unit_source_value             varchar(50) null,
  unit_source_concept_id        integer     null,
  value_source_value            varchar(50) null,
  measurement_event_id          integer     null,
  meas_event_field_concept_id   integer     null
);

create table @schema.observation (
  observation_id                integer     not null primary key,
  person_id                     integer     not null,
  observation_concept_id        integer     not null,
  observation_date              date        not null,
  observation_datetime          timestamp   null,
  observation_type_concept_id   integer     not null,
  value_as_number               numeric     null,
  value_as_string               varchar(60) null,
  value_as_concept_id           integer     null,
  qualifier_concept_id          integer     null,
  unit_concept_id               integer     null,
  provider_id                   integer     null,
  visit_occurrence_id           integer     null,
  visit_detail_id               integer     null,
  observation_source_value      varchar(50) null,
  observation_source_concept_id integer     null,
  unit_source_value             varchar(50) null,
  qualifier_source_value        varchar(50) null,
  value_source_value            varchar(50) null,
  observation_event_id          integer     null,
  obs_event_field_concept_id    integer     null
);

create table @schema.cohort (
  cohort_definition_id integer not null,
  subject_id           integer not null,
  cohort_start_date    date    not null,
  cohort_end_date      date    not null
);
