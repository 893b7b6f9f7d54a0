PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_audit_events` (
	`id` integer PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`actor_label` text NOT NULL,
	`action` text NOT NULL,
	`request_id` text,
	`grant_id` text,
	`details` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_audit_events`("id", "seq", "at", "actor", "actor_label", "action", "request_id", "grant_id", "details", "prev_hash", "hash") SELECT "id", "seq", "at", "actor", "actor_label", "action", "request_id", "grant_id", "details", "prev_hash", "hash" FROM `audit_events`;--> statement-breakpoint
DROP TABLE `audit_events`;--> statement-breakpoint
ALTER TABLE `__new_audit_events` RENAME TO `audit_events`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `audit_seq` ON `audit_events` (`seq`);--> statement-breakpoint
CREATE INDEX `audit_at` ON `audit_events` (`at`);--> statement-breakpoint
CREATE INDEX `audit_request` ON `audit_events` (`request_id`);--> statement-breakpoint
CREATE INDEX `audit_grant` ON `audit_events` (`grant_id`) WHERE grant_id is not null;--> statement-breakpoint
CREATE TABLE `__new_decisions` (
	`id` integer PRIMARY KEY NOT NULL,
	`request_id` text NOT NULL,
	`step_index` integer NOT NULL,
	`approver_id` text NOT NULL,
	`approver_email` text NOT NULL,
	`approver_name` text NOT NULL,
	`approver_slack_id` text,
	`decision` text NOT NULL,
	`reason` text,
	`shortened_to_seconds` integer,
	`at` text NOT NULL,
	`on_behalf_of_id` text,
	`on_behalf_of_email` text,
	`on_behalf_of_name` text,
	`on_behalf_of_slack_id` text,
	FOREIGN KEY (`request_id`) REFERENCES `requests`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_decisions`("id", "request_id", "step_index", "approver_id", "approver_email", "approver_name", "approver_slack_id", "decision", "reason", "shortened_to_seconds", "at", "on_behalf_of_id", "on_behalf_of_email", "on_behalf_of_name", "on_behalf_of_slack_id") SELECT "id", "request_id", "step_index", "approver_id", "approver_email", "approver_name", "approver_slack_id", "decision", "reason", "shortened_to_seconds", "at", "on_behalf_of_id", "on_behalf_of_email", "on_behalf_of_name", "on_behalf_of_slack_id" FROM `decisions`;--> statement-breakpoint
DROP TABLE `decisions`;--> statement-breakpoint
ALTER TABLE `__new_decisions` RENAME TO `decisions`;--> statement-breakpoint
CREATE UNIQUE INDEX `decisions_one_per_person` ON `decisions` (`request_id`,`approver_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `decisions_one_per_delegator` ON `decisions` (`request_id`,`on_behalf_of_id`) WHERE on_behalf_of_id is not null;--> statement-breakpoint
CREATE TABLE `__new_jobs` (
	`id` integer PRIMARY KEY NOT NULL,
	`key` text NOT NULL,
	`kind` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`run_at` text NOT NULL,
	`locked_until` text,
	`locked_by` text,
	`last_error` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`subject` text
);
--> statement-breakpoint
INSERT INTO `__new_jobs`("id", "key", "kind", "payload", "status", "attempts", "run_at", "locked_until", "locked_by", "last_error", "created_at", "updated_at", "subject") SELECT "id", "key", "kind", "payload", "status", "attempts", "run_at", "locked_until", "locked_by", "last_error", "created_at", "updated_at", "subject" FROM `jobs`;--> statement-breakpoint
DROP TABLE `jobs`;--> statement-breakpoint
ALTER TABLE `__new_jobs` RENAME TO `jobs`;--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_key` ON `jobs` (`key`);--> statement-breakpoint
CREATE INDEX `jobs_due` ON `jobs` (`status`,`run_at`);--> statement-breakpoint
CREATE INDEX `jobs_subject` ON `jobs` (`subject`,`status`) WHERE subject is not null;