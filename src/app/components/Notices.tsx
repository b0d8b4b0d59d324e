import { undoReplaceImage } from '../engine';
import { dismiss, useStore } from '../store';

/** Errors and notes as dismissible messages (never a crash); a replacement that cleared pins offers "Undo". */
export function Notices() {
  const notices = useStore((s) => s.notices);
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <span>{n.text}</span>
          {n.undo && (
            <button type="button" className="notice-action" onClick={undoReplaceImage}>
              Undo
            </button>
          )}
          <button type="button" className="link" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}
