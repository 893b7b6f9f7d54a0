ALTER TABLE `jobs` ADD `subject` text;--> statement-breakpoint
CREATE INDEX `jobs_subject` ON `jobs` (`subject`,`status`);