CREATE TABLE `break_glass_reviews` (
	`grant_id` text PRIMARY KEY NOT NULL,
	`request_id` text NOT NULL,
	`reviewers` text NOT NULL,
	`incident` text,
	`created_at` text NOT NULL,
	`due_at` text NOT NULL,
	`status` text NOT NULL,
	`reviewer_id` text,
	`reviewer_email` text,
	`reviewer_name` text,
	`reviewer_slack_id` text,
	`reason` text,
	`reviewed_at` text,
	FOREIGN KEY (`grant_id`) REFERENCES `grants`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`request_id`) REFERENCES `requests`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `break_glass_reviews_due` ON `break_glass_reviews` (`status`,`due_at`);--> statement-breakpoint
CREATE TABLE `delegations` (
	`id` text PRIMARY KEY NOT NULL,
	`delegator_id` text NOT NULL,
	`delegator_email` text NOT NULL,
	`delegator_name` text NOT NULL,
	`delegator_slack_id` text,
	`delegate_id` text NOT NULL,
	`delegate_email` text NOT NULL,
	`delegate_name` text NOT NULL,
	`delegate_slack_id` text,
	`starts_at` text NOT NULL,
	`ends_at` text NOT NULL,
	`status` text NOT NULL,
	`created_at` text NOT NULL,
	`ended_at` text,
	`ended_reason` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `delegations_one_active` ON `delegations` (`delegator_id`) WHERE status = 'active';--> statement-breakpoint
CREATE INDEX `delegations_delegate` ON `delegations` (`delegate_id`,`status`);--> statement-breakpoint
CREATE INDEX `delegations_status_ends` ON `delegations` (`status`,`ends_at`);--> statement-breakpoint
ALTER TABLE `approval_steps` ADD `escalate_at` text;--> statement-breakpoint
ALTER TABLE `approval_steps` ADD `escalated_at` text;--> statement-breakpoint
ALTER TABLE `approval_steps` ADD `escalation_approvers` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `approval_steps` ADD `next_reminder_at` text;--> statement-breakpoint
ALTER TABLE `approval_steps` ADD `reminders_sent` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
CREATE INDEX `approval_steps_escalate` ON `approval_steps` (`status`,`escalate_at`);--> statement-breakpoint
CREATE INDEX `approval_steps_remind` ON `approval_steps` (`status`,`next_reminder_at`);--> statement-breakpoint
ALTER TABLE `decisions` ADD `on_behalf_of_id` text;--> statement-breakpoint
ALTER TABLE `decisions` ADD `on_behalf_of_email` text;--> statement-breakpoint
ALTER TABLE `decisions` ADD `on_behalf_of_name` text;--> statement-breakpoint
ALTER TABLE `decisions` ADD `on_behalf_of_slack_id` text;--> statement-breakpoint
CREATE UNIQUE INDEX `decisions_one_per_delegator` ON `decisions` (`request_id`,`on_behalf_of_id`) WHERE on_behalf_of_id is not null;--> statement-breakpoint
ALTER TABLE `grants` ADD `break_glass` integer DEFAULT false NOT NULL;