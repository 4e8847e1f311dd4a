/** Phase `follower`: another tab runs the core; this one shows a mirror of its state. */
export function FollowerNotice() {
  return (
    <div className="follower-notice" role="note">
      <strong>Petrel is open in another tab.</strong> This tab shows your conversations but sends nothing; use the other tab, or
      close it and reload this one.
    </div>
  );
}
