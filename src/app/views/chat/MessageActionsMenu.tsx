import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { MessageView } from '../../../core/messenger/messenger-api.ts';

/** The reactions offered in one tap (any single emoji can be sent through the core). */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'] as const;

export interface MessageActionsMenuProps {
  readonly message: MessageView;
  readonly onReply: () => void;
  readonly onEdit: () => void;
  readonly onDeleteForEveryone: () => void;
  readonly onDeleteForMe: () => void;
  readonly onReact: (emoji: string) => void;
  /** Nothing can be sent in this chat (a group we left or were removed from): only Delete for me (and Details). */
  readonly readOnly?: boolean;
  /** Offered on our group message (per-member delivery) and on ours to a contact of several devices (per-device delivery). */
  readonly onDetails?: () => void;
}

type Item = { readonly label: string; readonly run: () => void };

/**
 * A message's **More actions** button and its menu (WAI-ARIA menu button: arrow keys move,
 * Escape closes and gives focus back to the button), the same in 1:1 and group chats (a
 * group, and a 1:1 chat with a contact of several devices, add **Details** on our own messages). Only the actions that apply are
 * offered: Reply and React while not deleted (and the chat is not read-only), Edit and Delete for everyone while the core
 * says they are allowed (ours, within 24 h, 10 edits), Delete for me always. **React**
 * opens a small picker of emoji; "Remove reaction" when one of ours is there.
 */
export function MessageActionsMenu({ message, onReply, onEdit, onDeleteForEveryone, onDeleteForMe, onReact, readOnly = false, onDetails }: MessageActionsMenuProps) {
  const [open, setOpen] = useState<'menu' | 'react' | undefined>();
  const menuId = useId();
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const mine = message.reactions?.find((r) => r.mine)?.emoji;

  useEffect(() => {
    panel.current?.querySelector<HTMLElement>('[role="menuitem"], button')?.focus();
  }, [open]);

  const close = () => {
    setOpen(undefined);
    button.current?.focus();
  };
  const live = !message.deleted && !readOnly;
  const items: Item[] = [
    ...(onDetails ? [{ label: 'Details', run: onDetails }] : []),
    ...(live ? [{ label: 'Reply', run: onReply }] : []),
    ...(message.canEdit && !readOnly ? [{ label: 'Edit', run: onEdit }] : []),
    ...(message.canDeleteForEveryone && !readOnly ? [{ label: 'Delete for everyone', run: onDeleteForEveryone }] : []),
    { label: 'Delete for me', run: onDeleteForMe },
    ...(live ? [{ label: 'React', run: () => setOpen('react') }] : []),
  ];
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      close();
      return;
    }
    if (open !== 'menu' || (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' && e.key !== 'Home' && e.key !== 'End')) return;
    e.preventDefault();
    const all = [...(panel.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = all.indexOf(document.activeElement as HTMLElement);
    const next = e.key === 'Home' ? 0 : e.key === 'End' ? all.length - 1 : (at + (e.key === 'ArrowDown' ? 1 : all.length - 1)) % all.length;
    all[next]?.focus();
  };

  return (
    <div className="message-actions" onKeyDown={onKeyDown}>
      <button
        ref={button}
        type="button"
        className="message-actions-button"
        aria-haspopup="menu"
        aria-expanded={open !== undefined}
        aria-controls={open ? menuId : undefined}
        onClick={() => (open ? close() : setOpen('menu'))}
      >
        <span aria-hidden="true">⋯</span>
        <span className="visually-hidden">More actions</span>
      </button>
      {open === 'menu' && (
        <div ref={panel} id={menuId} role="menu" aria-label="Message actions" className="message-actions-menu">
          {items.map((item) => (
            <button
              key={item.label}
              type="button"
              role="menuitem"
              tabIndex={-1}
              onClick={() => {
                if (item.label !== 'React') close();
                item.run();
              }}
            >
              {item.label}
            </button>
          ))}
        </div>
      )}
      {open === 'react' && (
        <div ref={panel} id={menuId} role="group" aria-label="Choose a reaction" className="message-actions-menu message-reactions-picker">
          {QUICK_REACTIONS.map((emoji) => (
            <button
              key={emoji}
              type="button"
              aria-label={`React with ${emoji}`}
              aria-pressed={mine === emoji}
              onClick={() => {
                close();
                onReact(emoji);
              }}
            >
              {emoji}
            </button>
          ))}
          {mine && (
            <button
              type="button"
              onClick={() => {
                close();
                onReact('');
              }}
            >
              Remove reaction
            </button>
          )}
        </div>
      )}
    </div>
  );
}
