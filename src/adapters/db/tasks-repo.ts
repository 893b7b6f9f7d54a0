/** Manual provisioning tasks, on SQLite. */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { TaskRecord } from '../../domain/records.js';
import type { Connection } from './open-database.js';
import { toTask, type TaskRow } from './row-mappers.js';
import * as t from './schema.js';
import type { SyncPort } from './sync-port.js';

export class TasksRepo implements SyncPort<'getTask' | 'getTaskFor' | 'openTasks' | 'insertTask' | 'updateTask'> {
  constructor(private readonly c: Connection) {}

  getTask(id: string): TaskRecord | undefined {
    const row = this.c
      .prepared('getTask', (db) =>
        db
          .select()
          .from(t.tasks)
          .where(eq(t.tasks.id, sql.placeholder('id'))),
      )
      .get({ id });
    return row && toTask(row);
  }

  getTaskFor(grantId: string, action: 'grant' | 'revoke'): TaskRecord | undefined {
    const row = this.c
      .prepared('getTaskFor', (db) =>
        db
          .select()
          .from(t.tasks)
          .where(and(eq(t.tasks.grantId, sql.placeholder('grantId')), eq(t.tasks.action, sql.placeholder('action')))),
      )
      .get({ grantId, action });
    return row && toTask(row);
  }

  openTasks(assigneeGroups: readonly string[], limit: number): TaskRecord[] {
    if (assigneeGroups.length === 0) return [];
    return this.c.db
      .select()
      .from(t.tasks)
      .where(and(eq(t.tasks.status, 'open'), inArray(t.tasks.assigneeGroup, [...assigneeGroups])))
      .orderBy(asc(t.tasks.createdAt))
      .limit(limit)
      .all()
      .map(toTask);
  }

  insertTask(task: TaskRecord): void {
    this.c.db
      .insert(t.tasks)
      .values({
        id: task.id,
        grantId: task.grantId,
        action: task.action,
        assigneeGroup: task.assigneeGroup,
        status: task.status,
        createdAt: task.createdAt,
      })
      .onConflictDoNothing()
      .run();
  }

  updateTask(id: string, from: TaskRecord['status'][], patch: Partial<TaskRecord>): boolean {
    const values: Partial<TaskRow> = {};
    if (patch.status) values.status = patch.status;
    if (patch.completedAt !== undefined) values.completedAt = patch.completedAt;
    if (patch.completedBy) {
      values.completedById = patch.completedBy.directoryId;
      values.completedByEmail = patch.completedBy.email;
      values.completedByName = patch.completedBy.name;
    }
    if (Object.keys(values).length === 0) return false;
    return (
      this.c.db
        .update(t.tasks)
        .set(values)
        .where(and(eq(t.tasks.id, id), inArray(t.tasks.status, from)))
        .run().changes === 1
    );
  }
}
