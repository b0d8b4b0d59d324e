import { useEffect, useId, useRef, type ReactNode } from 'react';
import { Icon, type IconName } from './Icons';

/** The least room between a panel and the viewport's edge (px). */
const EDGE = 8;

/**
 * A toolbar button that opens a panel under it. The panel is a native popover: it sits in the top layer (no
 * clipping), and a click outside or Escape closes it, with no code of ours.
 */
export function Popover({
  icon,
  label,
  title,
  className,
  iconOnly,
  children,
}: {
  icon: IconName;
  label: string;
  title: string;
  className?: string;
  /** The label is for screen readers only (the tooltip shows it too). */
  iconOnly?: boolean;
  children: ReactNode;
}) {
  const id = useId();
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = panel.current!;
    // Placed before it shows (its own size is not known yet): under the button, opening towards the roomier side.
    const place = (e: Event) => {
      if ((e as ToggleEvent).newState !== 'open') return;
      const anchor = button.current!.getBoundingClientRect();
      element.style.top = `${anchor.bottom + 6}px`;
      const rightHalf = anchor.left + anchor.width / 2 > innerWidth / 2;
      element.style.left = rightHalf ? 'auto' : `${Math.max(EDGE, anchor.left)}px`;
      element.style.right = rightHalf ? `${Math.max(EDGE, innerWidth - anchor.right)}px` : 'auto';
    };
    // Once shown its size is known: a panel wider than the room beside the button moves back on screen.
    const keepInside = (e: Event) => {
      if ((e as ToggleEvent).newState !== 'open') return;
      const box = element.getBoundingClientRect();
      if (box.right > innerWidth - EDGE || box.left < EDGE) {
        element.style.left = `${Math.max(EDGE, innerWidth - EDGE - box.width)}px`;
        element.style.right = 'auto';
      }
      // A panel taller than the room below the button scrolls inside instead.
      element.style.maxHeight = `${innerHeight - EDGE - box.top}px`;
    };
    element.addEventListener('beforetoggle', place);
    element.addEventListener('toggle', keepInside);
    return () => {
      element.removeEventListener('beforetoggle', place);
      element.removeEventListener('toggle', keepInside);
    };
  }, []);

  return (
    <>
      <button ref={button} type="button" className="tool" popoverTarget={id} title={title} aria-haspopup="dialog">
        <Icon name={icon} />
        <span className={iconOnly ? 'sr-only' : 'tool-label'}>{label}</span>
      </button>
      <div ref={panel} id={id} popover="auto" role="dialog" aria-label={title} className={`popover ${className ?? ''}`}>
        {children}
      </div>
    </>
  );
}
