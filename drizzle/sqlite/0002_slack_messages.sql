CREATE TABLE `slack_messages` (
	`slot` text PRIMARY KEY NOT NULL,
	`channel` text NOT NULL,
	`ts` text NOT NULL,
	`request_id` text,
	`step_index` integer,
	`recipient` text NOT NULL,
	`notification_type` text NOT NULL,
	`posted_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `slack_messages_request` ON `slack_messages` (`request_id`,`step_index`);