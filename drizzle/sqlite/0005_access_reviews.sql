CREATE TABLE `review_assignments` (
	`item_id` text NOT NULL,
	`reviewer_id` text NOT NULL,
	`campaign_id` text NOT NULL,
	`position` integer NOT NULL,
	`first_seen_at` text,
	PRIMARY KEY(`item_id`, `reviewer_id`),
	FOREIGN KEY (`item_id`) REFERENCES `review_items`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `review_assignments_reviewer` ON `review_assignments` (`reviewer_id`,`campaign_id`,`position`);--> statement-breakpoint
CREATE TABLE `review_campaigns` (
	`id` text PRIMARY KEY NOT NULL,
	`review_id` text NOT NULL,
	`review_name` text NOT NULL,
	`version` text NOT NULL,
	`definition` text NOT NULL,
	`trigger` text NOT NULL,
	`started_by` text NOT NULL,
	`slot` text,
	`status` text NOT NULL,
	`started_at` text NOT NULL,
	`due_at` text NOT NULL,
	`closed_at` text,
	`closed_by` text,
	`population_count` integer NOT NULL,
	`population_hash` text NOT NULL,
	`rules` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `review_campaigns_one_open` ON `review_campaigns` (`review_id`) WHERE status = 'open';--> statement-breakpoint
CREATE UNIQUE INDEX `review_campaigns_slot` ON `review_campaigns` (`review_id`,`slot`);--> statement-breakpoint
CREATE INDEX `review_campaigns_status_due` ON `review_campaigns` (`status`,`due_at`);--> statement-breakpoint
CREATE INDEX `review_campaigns_started` ON `review_campaigns` (`started_at`);--> statement-breakpoint
CREATE TABLE `review_items` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`position` integer NOT NULL,
	`holder_id` text NOT NULL,
	`holder_email` text NOT NULL,
	`holder_name` text NOT NULL,
	`access_kind` text NOT NULL,
	`app` text,
	`role` text,
	`access_group` text,
	`source` text NOT NULL,
	`grant_id` text,
	`reviewer_rule` text NOT NULL,
	`reviewer_fallback_reason` text,
	`reviewer_label` text NOT NULL,
	`decision` text NOT NULL,
	`reason` text,
	`decided_by_id` text,
	`decided_by_email` text,
	`decided_by_name` text,
	`decided_by_slack_id` text,
	`decided_at` text,
	`seconds_to_decision` integer,
	`remediation` text NOT NULL,
	`remediation_detail` text,
	`remediated_at` text,
	`remediation_event_seq` integer,
	FOREIGN KEY (`campaign_id`) REFERENCES `review_campaigns`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `review_items_position` ON `review_items` (`campaign_id`,`position`);--> statement-breakpoint
CREATE INDEX `review_items_grant` ON `review_items` (`grant_id`);--> statement-breakpoint
CREATE INDEX `review_items_remediation` ON `review_items` (`remediation`);--> statement-breakpoint
CREATE TABLE `review_reviewers` (
	`campaign_id` text NOT NULL,
	`reviewer_id` text NOT NULL,
	`email` text NOT NULL,
	`name` text NOT NULL,
	`slack_id` text,
	`items` integer NOT NULL,
	`reminders_sent` text NOT NULL,
	PRIMARY KEY(`campaign_id`, `reviewer_id`),
	FOREIGN KEY (`campaign_id`) REFERENCES `review_campaigns`(`id`) ON UPDATE no action ON DELETE no action
);
