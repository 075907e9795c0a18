//! sea-orm entities, one per table (compact format). Relations are loaded through the
//! GraphQL DataLoaders and the queries in `store`, so entities declare none.

pub mod action_item;
pub mod appointment;
pub mod assessment;
pub mod assessment_form;
pub mod assessment_score;
pub mod audit_log;
pub mod barring;
pub mod community;
pub mod compilation_contract;
pub mod demand;
pub mod duty_record;
pub mod letter;
pub mod meeting;
pub mod member_community;
pub mod organization;
pub mod plan;
pub mod plan_item;
pub mod planner;
pub mod problem;
pub mod project;
pub mod recommendation;
pub mod roster_import;
pub mod score_change;
pub mod service_contract;
pub mod street;
pub mod survey_report;
pub mod team_member;
pub mod user;
pub mod workstation;
