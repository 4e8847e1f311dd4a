/** Where a click on a notification takes the user. */

/** The app's address for a notification: its conversation when it names one (`#/chat/<id>`, src/app/chat-route.ts), else the list. */
export function notificationTarget(scope: string, data: unknown): string {
  const contactId = typeof data === 'object' && data !== null ? (data as { contactId?: unknown }).contactId : undefined;
  return typeof contactId === 'string' && /^[0-9a-f]+$/u.test(contactId) ? `${scope}#/chat/${contactId}` : scope;
}
