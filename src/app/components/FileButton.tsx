import { useEffect, useRef, type ReactNode } from 'react';
import { openImage } from '../engine';
import type { Side } from '../protocol';
import { Icon } from './Icons';

interface FilePickerProps {
  title?: string;
  className?: string;
  testId: string;
  multiple?: boolean;
  /** Pick a whole folder (`webkitdirectory`, which React does not type). */
  folder?: boolean;
  onFiles: (files: File[]) => void;
  children: ReactNode;
}

/** A button that opens the browser's file picker for images. */
export function FilePicker({ title, className = 'link', testId, multiple = false, folder = false, onFiles, children }: FilePickerProps) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (folder) input.current!.setAttribute('webkitdirectory', '');
  }, [folder]);
  return (
    <>
      <button type="button" className={className} title={title} onClick={() => input.current!.click()}>
        {children}
      </button>
      <input
        ref={input}
        type="file"
        accept="image/*"
        multiple={multiple || folder}
        hidden
        data-testid={testId}
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          if (files.length > 0) onFiles(files);
        }}
      />
    </>
  );
}

/** A button that opens the file picker for one pane. */
export function FileButton({ side, children }: { side: Side; children: ReactNode }) {
  return (
    <FilePicker
      className="link file-button"
      title={`Open an image file for the ${side}`}
      testId={`file-${side}`}
      onFiles={([file]) => openImage(side, file, file.name)}
    >
      <Icon name="open" />
      {children}
    </FilePicker>
  );
}
