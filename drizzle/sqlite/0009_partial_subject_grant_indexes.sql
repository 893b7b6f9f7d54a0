DROP INDEX `audit_grant`;--> statement-breakpoint
CREATE INDEX `audit_grant` ON `audit_events` (`grant_id`) WHERE grant_id is not null;--> statement-breakpoint
DROP INDEX `jobs_subject`;--> statement-breakpoint
CREATE INDEX `jobs_subject` ON `jobs` (`subject`,`status`) WHERE subject is not null;