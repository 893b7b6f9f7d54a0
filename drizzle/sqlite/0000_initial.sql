CREATE TABLE `approval_steps` (
	`request_id` text NOT NULL,
	`idx` integer NOT NULL,
	`step` text NOT NULL,
	`label` text NOT NULL,
	`required` integer NOT NULL,
	`status` text NOT NULL,
	`approvers` text NOT NULL,
	`fallback_reason` text,
	`notify_channel` text,
	`started_at` text,
	`decided_at` text,
	PRIMARY KEY(`request_id`, `idx`),
	FOREIGN KEY (`request_id`) REFERENCES `requests`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `audit_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
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
CREATE UNIQUE INDEX `audit_seq` ON `audit_events` (`seq`);--> statement-breakpoint
CREATE INDEX `audit_at` ON `audit_events` (`at`);--> statement-breakpoint
CREATE INDEX `audit_request` ON `audit_events` (`request_id`);--> statement-breakpoint
CREATE INDEX `audit_grant` ON `audit_events` (`grant_id`);--> statement-breakpoint
CREATE TABLE `decisions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
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
	FOREIGN KEY (`request_id`) REFERENCES `requests`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `decisions_one_per_person` ON `decisions` (`request_id`,`approver_id`);--> statement-breakpoint
CREATE TABLE `extensions` (
	`id` text PRIMARY KEY NOT NULL,
	`grant_id` text NOT NULL,
	`request_id` text NOT NULL,
	`added_seconds` integer NOT NULL,
	`previous_expires_at` text NOT NULL,
	`new_expires_at` text NOT NULL,
	`at` text NOT NULL,
	FOREIGN KEY (`grant_id`) REFERENCES `grants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`request_id`) REFERENCES `requests`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `extensions_grant` ON `extensions` (`grant_id`);--> statement-breakpoint
CREATE TABLE `grants` (
	`id` text PRIMARY KEY NOT NULL,
	`request_id` text NOT NULL,
	`holder_id` text NOT NULL,
	`holder_email` text NOT NULL,
	`holder_name` text NOT NULL,
	`holder_slack_id` text,
	`app` text NOT NULL,
	`role` text NOT NULL,
	`policy_name` text NOT NULL,
	`policy_version` text NOT NULL,
	`sensitive` integer NOT NULL,
	`snapshot` text NOT NULL,
	`provision_group` text,
	`already_member` integer,
	`status` text NOT NULL,
	`duration_seconds` integer NOT NULL,
	`max_total_seconds` integer,
	`extension_approval` text,
	`created_at` text NOT NULL,
	`activated_at` text,
	`expires_at` text,
	`revocation_reason` text,
	`revocation_note` text,
	`revoked_by` text,
	`revocation_started_at` text,
	`revoked_at` text,
	`reminders_sent` text NOT NULL,
	`failures` integer NOT NULL,
	`last_error` text,
	FOREIGN KEY (`request_id`) REFERENCES `requests`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `grants_status_expires` ON `grants` (`status`,`expires_at`);--> statement-breakpoint
CREATE INDEX `grants_holder` ON `grants` (`holder_id`,`status`);--> statement-breakpoint
CREATE INDEX `grants_group` ON `grants` (`provision_group`,`status`);--> statement-breakpoint
CREATE INDEX `grants_request` ON `grants` (`request_id`);--> statement-breakpoint
CREATE TABLE `identity_bindings` (
	`slack_user_id` text PRIMARY KEY NOT NULL,
	`directory_id` text NOT NULL,
	`email` text NOT NULL,
	`bound_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `identity_one_slack_user_per_person` ON `identity_bindings` (`directory_id`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
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
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_key` ON `jobs` (`key`);--> statement-breakpoint
CREATE INDEX `jobs_due` ON `jobs` (`status`,`run_at`);--> statement-breakpoint
CREATE TABLE `meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `policy_versions` (
	`policy_name` text NOT NULL,
	`version` text NOT NULL,
	`app` text NOT NULL,
	`role` text NOT NULL,
	`definition` text NOT NULL,
	`first_seen_at` text NOT NULL,
	`last_seen_at` text NOT NULL,
	PRIMARY KEY(`policy_name`, `version`)
);
--> statement-breakpoint
CREATE TABLE `requests` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`grant_id` text,
	`requester_id` text NOT NULL,
	`requester_email` text NOT NULL,
	`requester_name` text NOT NULL,
	`requester_slack_id` text,
	`app` text NOT NULL,
	`role` text NOT NULL,
	`policy_name` text NOT NULL,
	`policy_version` text NOT NULL,
	`justification` text NOT NULL,
	`requested_seconds` integer NOT NULL,
	`granted_seconds` integer,
	`status` text NOT NULL,
	`auto_approve_rule` text,
	`current_step` integer NOT NULL,
	`step_count` integer NOT NULL,
	`created_at` text NOT NULL,
	`approval_deadline` text NOT NULL,
	`decided_at` text,
	`decision_reason` text
);
--> statement-breakpoint
CREATE INDEX `requests_requester` ON `requests` (`requester_id`,`status`);--> statement-breakpoint
CREATE INDEX `requests_status_deadline` ON `requests` (`status`,`approval_deadline`);--> statement-breakpoint
CREATE INDEX `requests_created` ON `requests` (`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `requests_one_pending` ON `requests` (`requester_id`,`app`,`role`) WHERE status = 'pending_approval';--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`grant_id` text NOT NULL,
	`action` text NOT NULL,
	`assignee_group` text NOT NULL,
	`status` text NOT NULL,
	`created_at` text NOT NULL,
	`completed_by_id` text,
	`completed_by_email` text,
	`completed_by_name` text,
	`completed_at` text,
	FOREIGN KEY (`grant_id`) REFERENCES `grants`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tasks_one_per_action` ON `tasks` (`grant_id`,`action`);