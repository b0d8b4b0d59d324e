import { useRef, type ReactNode } from 'react';
import { openImage } from '../engine';
import type { Side } from '../protocol';
import { Icon } from './Icons';

/** A button that opens the file picker for one pane. */
export function FileButton({ side, children }: { side: Side; children: ReactNode }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" className="link file-button" title={`Open an image file for the ${side}`} onClick={() => input.current!.click()}>
        <Icon name="open" />
        {children}
      </button>
      <input
        ref={input}
        type="file"
        accept="image/*"
        hidden
        data-testid={`file-${side}`}
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) openImage(side, file, file.name);
          e.target.value = '';
        }}
      />
    </>
  );
}
