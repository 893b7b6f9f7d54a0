DROP INDEX `approval_steps_escalate`;--> statement-breakpoint
DROP INDEX `approval_steps_remind`;--> statement-breakpoint
CREATE INDEX `approval_steps_escalate` ON `approval_steps` (`status`,`escalate_at`) WHERE escalate_at is not null;--> statement-breakpoint
CREATE INDEX `approval_steps_remind` ON `approval_steps` (`status`,`next_reminder_at`) WHERE next_reminder_at is not null;