import { useId, useState } from 'react';
import type { MessageView } from '../../../core/messenger/messenger-api.ts';

/**
 * What message actions add under a message's text: the "edited" marker (a button that
 * shows every version, oldest first) and the reactions, one chip per emoji with its count
 * and, for screen readers, who reacted.
 */
export function MessageExtras({ message, peerName }: { readonly message: MessageView; readonly peerName: string }) {
  const [history, setHistory] = useState(false);
  const historyId = useId();
  const versions = message.versions;
  const chips = new Map<string, { count: number; mine: boolean; names: string[] }>();
  for (const r of message.reactions ?? []) {
    const c = chips.get(r.emoji) ?? { count: 0, mine: false, names: [] };
    // Ours first ("you and Bo"); in a group each member by name, in a chat the contact.
    const names = r.mine ? ['you', ...c.names] : [...c.names, r.name ?? peerName];
    chips.set(r.emoji, { count: c.count + 1, mine: c.mine || r.mine, names });
  }
  return (
    <>
      {versions && versions.length > 1 && !message.deleted && (
        <div className="message-edited">
          <button type="button" className="message-edited-button" aria-expanded={history} aria-controls={historyId} onClick={() => setHistory(!history)}>
            edited<span className="visually-hidden">: {history ? 'hide' : 'show'} earlier versions</span>
          </button>
          {history && (
            <ol id={historyId} className="message-history" aria-label="Earlier versions">
              {versions.slice(0, -1).map((v, i) => (
                <li key={i} dir="auto">
                  {v.text}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
      {chips.size > 0 && (
        <ul className="message-reactions" aria-label="Reactions">
          {[...chips].map(([emoji, c]) => (
            <li key={emoji} className={c.mine ? 'reaction reaction-mine' : 'reaction'}>
              <span aria-hidden="true">
                {emoji}
                {c.count > 1 ? ` ${c.count}` : ''}
              </span>
              <span className="visually-hidden">
                {emoji} from {listOf(c.names)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** "you", "you and Bo", "you, Bo and Cy". */
function listOf(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`;
}
