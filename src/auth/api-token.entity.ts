import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('api_tokens')
export class ApiToken {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ name: 'user_id', type: 'int' })
  userId: number;

  @Column({ type: 'varchar' })
  name: string;

  /** sha256 of the token: the token itself is shown once and never stored. */
  @Column({ name: 'token_hash', type: 'varchar', select: false })
  tokenHash: string;

  /** First characters, so a user can tell tokens apart on the profile page. */
  @Column({ name: 'token_prefix', type: 'varchar' })
  tokenPrefix: string;

  @Column({ name: 'created_at', type: 'datetime' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'datetime', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'datetime', nullable: true })
  revokedAt: Date | null;
}
